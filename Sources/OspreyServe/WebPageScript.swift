/// The page's script (see WebPage). Builds every node with createElement and sets data as text: evidence and
/// events carry attacker-controlled strings (subjects, file names, addresses).
enum WebPageScript {
    static let js = ##"""
'use strict';
const S = { notable: [], triage: {}, rules: {}, user: null, session: null, card: null };

function param(name) {
  for (const part of location.hash.replace(/^#/, '').split('&')) {
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    if (k === name) { try { return decodeURIComponent(i < 0 ? '' : part.slice(i + 1)); } catch (e) { return null; } }
  }
  return null;
}
function token() {
  const t = param('token');
  if (t) sessionStorage.setItem('ospreyToken', t);
  let s = sessionStorage.getItem('ospreyToken');
  if (!s) { s = prompt('Osprey API token') || ''; sessionStorage.setItem('ospreyToken', s); }
  return s;
}
async function api(path, body) {
  const opts = { headers: { 'Authorization': 'Bearer ' + token() } };
  if (body !== undefined) { opts.method = 'POST'; opts.body = JSON.stringify(body); opts.headers['Content-Type'] = 'application/json'; }
  const r = await fetch(path, opts);
  if (!r.ok) throw new Error(path.split('?')[0] + ': HTTP ' + r.status);
  return r.json();
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v; else if (k === 'onclick') e.onclick = v; else e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function showError(e) { document.getElementById('error').textContent = String(e && e.message || e); }
function fmtTime(t) { return t ? String(t).replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : ''; }
function isLive(s) { return !!(s && (s.open === true || s.live === true || s.state === 'open')); }
function human(k) { return String(k).replace(/_/g, ' '); }

// ---- notable sessions -------------------------------------------------------------------------------
function techniques(ruleIds) {
  const out = [];
  for (const r of ruleIds || []) for (const m of ((S.rules[r] || {}).mitre || [])) out.push(m);
  return out;
}
function matchesFilter(s) {
  const q = document.getElementById('filter-q').value.trim().toLowerCase();
  const from = document.getElementById('filter-from').value, to = document.getElementById('filter-to').value;
  const day = String(s.start || s.end || '').slice(0, 10);
  if (from && day && day < from) return false;
  if (to && day && day > to) return false;
  if (!q) return true;
  const hay = [s.user, s.session, ...(s.rules || []), ...(s.rules || []).map(r => (S.rules[r] || {}).name || ''), ...techniques(s.rules)]
    .map(x => String(x || '').toLowerCase());
  return q.split(/\s+/).every(w => hay.some(h => h.includes(w)));
}
function renderQueue() {
  const showTriaged = document.getElementById('filter-triaged').checked;
  const all = S.notable.slice().sort((a, b) => (b.score - a.score) || (String(b.start) < String(a.start) ? -1 : 1));
  const visible = all.filter(s => (showTriaged || !S.triage[s.session]) && matchesFilter(s));
  const rows = visible.map(s => {
    const t = S.triage[s.session];
    const state = el('td', {});
    if (isLive(s)) state.append(el('span', { class: 'badge live' }, 'live'));
    if (t) state.append(el('span', { class: 'badge ' + t.decision, title: t.comment || '' }, t.decision === 'accept' ? 'accepted' : 'dismissed'));
    const ids = s.rules || [];
    const tr = el('tr', { class: 'notable-session' + (t ? ' triaged' : '') + (s.session === S.session ? ' selected' : '') + (isLive(s) ? ' live' : ''),
                          'data-session': s.session, 'data-user': s.user, 'data-score': s.score },
      el('td', { class: 'num score' }, s.score), el('td', { class: 'user-cell', title: s.user }, String(s.user).split('@')[0]), el('td', { class: 'start-cell' }, fmtTime(s.start).slice(0, 16)),
      el('td', { class: 'rules-cell', title: ids.join(', ') }, ids.slice(0, 2).join(' ') + (ids.length > 2 ? ` +${ids.length - 2}` : '')), state);
    tr.onclick = () => showUser(s.user, s.session);
    return tr;
  });
  document.getElementById('session-rows').replaceChildren(...rows);
  const hidden = all.filter(s => S.triage[s.session]).length;
  document.getElementById('queue-count').textContent =
    `${visible.length} of ${all.length} notable sessions shown, highest score first` + (hidden ? ` · ${hidden} accepted or dismissed` + (showTriaged ? '' : ' (hidden)') : '');
}

// ---- user card and risk chart -----------------------------------------------------------------------
function renderCard(c) {
  const box = document.getElementById('user-card');
  const title = el('h2', { id: 'detail-title' }, c.display_name ? `${c.display_name} (${c.user})` : c.user);
  const flags = el('div', { class: 'flags' });
  for (const [k, label] of [['executive', 'executive'], ['service_account', 'service account'], ['privileged', 'privileged'], ['deactivated', 'deactivated']]) {
    if (c[k]) flags.append(el('span', { class: 'badge flag', 'data-flag': k }, label));
  }
  const dl = el('dl', {});
  const row = (k, v) => { if (v !== undefined && v !== null && v !== '') dl.append(el('dt', {}, k), v instanceof Node ? el('dd', {}, v) : el('dd', {}, v)); };
  if (c.known) {
    row('Department', c.department || '—');
    row('Title', c.title || '—');
    if (c.manager) {
      const m = el('span', { class: 'link', 'data-manager': c.manager }, c.manager_name ? `${c.manager_name} (${c.manager})` : c.manager);
      m.onclick = () => showUser(c.manager);
      row('Manager', m);
    } else row('Manager', '—');
    row('Peer group', c.peer_group || '—');
    if (c.deactivated_at) row('Deactivated at', fmtTime(c.deactivated_at));
  } else {
    row('Context', 'not in the context\u2019s users.csv');
  }
  const s = c.sessions || [];
  row('Sessions with rules', `${s.length} (${s.filter(x => x.notable).length} notable)`);
  box.replaceChildren(el('div', { class: 'card', 'data-user': c.user }, title, flags), dl);
}
function renderRisk(c) {
  const box = document.getElementById('risk');
  const sessions = (c.sessions || []).filter(s => s.start);
  if (!sessions.length) { box.replaceChildren(); return; }
  const day = 86400000;
  const t = s => Date.parse(s.start);
  let lo = Math.floor(Math.min(...sessions.map(t)) / day) * day;
  let hi = Math.ceil((Math.max(...sessions.map(t)) + 1) / day) * day;
  if (hi - lo < 7 * day) lo = hi - 7 * day;
  const W = 720, H = 150, L = 36, R = 24, T = 10, B = 22;
  const maxScore = Math.max(10, ...sessions.map(s => s.score));
  const x = ms => L + (W - L - R) * (ms - lo) / (hi - lo);
  const y = v => T + (H - T - B) * (1 - v / maxScore);
  const g = svg('svg', { id: 'risk-chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `risk of ${c.user} over time` });
  g.append(svg('title', {}, `Session scores of ${c.user} by day (bars: highest score of the day; dots: sessions, red = notable)`));
  for (const d of c.days || []) {
    const d0 = Date.parse(d.day + 'T00:00:00Z');
    g.append(svg('rect', { class: 'bar', 'data-day': d.day, x: x(d0) + 1, y: y(d.max_score), width: Math.max(2, x(d0 + day) - x(d0) - 2), height: y(0) - y(d.max_score) }));
  }
  g.append(svg('line', { class: 'axis', x1: L, y1: y(0), x2: W - R, y2: y(0) }), svg('line', { class: 'axis', x1: L, y1: T, x2: L, y2: y(0) }));
  g.append(svg('text', { x: L - 4, y: y(maxScore) + 8, 'text-anchor': 'end' }, maxScore), svg('text', { x: L - 4, y: y(0), 'text-anchor': 'end' }, 0));
  const days = Math.round((hi - lo) / day), step = Math.max(1, Math.ceil(days / 8));
  for (let i = 0; i <= days; i += step) {
    g.append(svg('text', { x: x(lo + i * day), y: H - 6, 'text-anchor': 'middle' }, new Date(lo + i * day).toISOString().slice(5, 10)));
  }
  for (const s of sessions) {
    const p = svg('circle', { class: 'pt' + (s.notable ? ' notable' : '') + (s.session === S.session ? ' selected' : ''), 'data-session': s.session,
                              cx: x(t(s)), cy: y(s.score), r: s.session === S.session ? 6 : 4 });
    p.append(svg('title', {}, `${fmtTime(s.start)} — score ${s.score}${s.notable ? ' (notable)' : ''}${s.open ? ' (open)' : ''}`));
    p.onclick = () => selectSession(s.session);
    g.append(p);
  }
  box.replaceChildren(el('h3', {}, 'Risk over time'), g);
}

// ---- evidence ---------------------------------------------------------------------------------------
function isTopValues(a) {
  return Array.isArray(a) && a.length > 0 && a.every(v => v && typeof v === 'object' && !Array.isArray(v) && typeof v.count === 'number' &&
    ('value' in v || 'label' in v || 'key' in v || 'name' in v));
}
function topValuesTable(a) {
  const total = a.reduce((n, v) => n + v.count, 0) || 1;
  const t = el('table', { class: 'top-values' });
  for (const v of a.slice(0, 10)) {
    const label = 'value' in v ? v.value : 'label' in v ? v.label : 'key' in v ? v.key : v.name;
    const share = typeof v.share === 'number' ? v.share : v.count / total;
    t.append(el('tr', {}, el('td', {}, typeof label === 'object' ? JSON.stringify(label) : label), el('td', { class: 'num' }, v.count),
      el('td', {}, el('span', { class: 'share', style: `width:${Math.round(60 * share)}px` }), `${Math.round(100 * share)}%`)));
  }
  if (a.length > 10) t.append(el('tr', {}, el('td', { colspan: 3, class: 'muted' }, `… ${a.length - 10} more`)));
  return t;
}
function valueNode(v, depth) {
  if (v === null || v === undefined) return document.createTextNode('—');
  if (typeof v !== 'object') return document.createTextNode(String(v));
  if (isTopValues(v)) return topValuesTable(v);
  if (Array.isArray(v)) {
    if (v.every(x => x === null || typeof x !== 'object')) return document.createTextNode(v.length ? v.join(', ') : '—');
    const d = el('div', {});
    for (const x of v.slice(0, 20)) d.append(el('div', {}, valueNode(x, depth + 1)));
    return d;
  }
  return evidenceTable(v, depth + 1);
}
// Evidence values that name an IP address, a domain or a file are pivots too.
function evidencePivot(k, v) {
  if (typeof v !== 'string' || !v || v.length > 300) return null;
  const n = String(k).toLowerCase();
  if ((n === 'ip' || n.endsWith('_ip')) && /^[0-9a-f:.]+$/i.test(v)) return pivotNode('ip', v);
  if (n.endsWith('domain') && /^[a-z0-9.-]+$/i.test(v)) return pivotNode('domain', v);
  if (/(^|_)(file_name|filename|attachment|attachments|attachment_names)$/.test(n)) {
    const d = el('span', {});
    v.split(/[,;|]\s*/).filter(x => x).forEach((x, i) => { if (i) d.append(', '); d.append(pivotNode('file', x.trim())); });
    return d;
  }
  if (/(^|_)email_address$/.test(n) && v.includes('@')) return addressNode(v);
  return null;
}
function evidenceTable(o, depth) {
  const t = el('table', { class: depth ? 'evidence nested' : 'evidence' });
  for (const [k, v] of Object.entries(o || {})) if (v !== '' && !(Array.isArray(v) && !v.length)) t.append(el('tr', {}, el('th', {}, human(k)), el('td', {}, depth > 4 ? JSON.stringify(v) : (evidencePivot(k, v) || valueNode(v, depth || 0)))));
  if (!Object.keys(o || {}).length) t.append(el('tr', {}, el('td', { class: 'muted' }, 'no evidence')));
  return t;
}
async function showHistogram(box, user, model, current) {
  const data = await api('/api/models?user=' + encodeURIComponent(user) + '&model=' + encodeURIComponent(model));
  box.replaceChildren();
  for (const b of data.baselines) {
    const max = Math.max(1, ...b.values.map(v => v.count));
    box.append(el('div', { class: 'hist-title' }, `Baseline now — ${b.name} (${b.kind}, key ${user}): ${b.observations} observations, ${b.distinct} distinct, ${b.converged ? 'converged' : 'not converged'}; red = the value this rule saw`));
    for (const v of b.values.slice(0, 20)) {
      box.append(el('div', { class: 'hbar' + (current.includes(v.label) ? ' current' : '') }, el('span', { class: 'label', title: v.label }, v.label),
        el('span', { class: 'fill', style: `width:${Math.round(220 * v.count / max)}px` }), el('span', {}, v.count)));
    }
  }
  if (!data.baselines.length) box.append(el('div', { class: 'muted' }, 'no baseline held for this user and model'));
}
function triggerNode(r, user, expand) {
  const mitre = (r.mitre || []).map(m => el('span', { class: 'badge mitre', 'data-technique': m.id, title: m.name || '' }, `${m.id} ${m.name || ''}`.trim()));
  const head = el('div', { class: 'trigger-head' }, el('b', {}, r.rule), el('span', {}, r.name || ''), el('span', { class: 'score' }, '+' + r.score),
    el('span', { class: 'muted' }, fmtTime(r.time)), ...mitre);
  const body = el('div', { class: 'trigger-body' }, evidenceTable(r.evidence && typeof r.evidence === 'object' && !Array.isArray(r.evidence) ? r.evidence : { value: r.evidence }, 0));
  const ev = (r.evidence && typeof r.evidence === 'object') ? r.evidence : {};
  const node = el('div', { class: 'trigger', 'data-rule': r.rule }, head, el('div', { class: 'reason' }, r.reason || ''), body);
  if (ev.model) {
    const hb = el('div', { class: 'hist' });
    const current = [ev.value].filter(x => x !== undefined && x !== null).map(String);
    const btn = el('button', {}, 'show baseline ' + ev.model);
    btn.onclick = () => showHistogram(hb, ev.key || user, ev.model, current).catch(showError);
    hb.append(btn);
    body.append(hb);
    if (expand) showHistogram(hb, ev.key || user, ev.model, current).catch(showError);
  }
  return node;
}

// ---- events -----------------------------------------------------------------------------------------
const F = {
  sender: ['sender', 'from', 'sender_address', 'envelope_from', 'header_from'],
  recipient: ['email_recipients', 'dest_email_address', 'recipient', 'recipients', 'to', 'rcpt'],
  subject: ['email_subject', 'subject'],
  ip: ['src_ip', 'ip', 'client_ip'],
  country: ['src_country'],
  files: ['email_attachments', 'email_attachment', 'attachment_names', 'file_name', 'attachments', 'attachment', 'filename'],
  app: ['operation', 'app', 'action'],
};
function pick(f, names) { for (const n of names) if (f[n] !== undefined && f[n] !== '') return [n, f[n]]; return [null, null]; }
function pivotNode(field, value, text) {
  const s = el('span', { class: 'pivot', 'data-pivot-field': field, 'data-pivot-value': value, title: `everyone who touched ${value}` }, text === undefined ? value : text);
  s.onclick = (e) => { e.stopPropagation(); showPivot(field, value); };
  return s;
}
function addressNode(a) {
  const i = String(a).lastIndexOf('@');
  if (i < 0) return document.createTextNode(String(a));
  const dom = String(a).slice(i + 1).replace(/[>\s]+$/, '');
  return el('span', {}, String(a).slice(0, i + 1), pivotNode('domain', dom));
}
function addressesNode(v) {
  const d = el('span', {});
  String(v).split(/[,;]\s*/).filter(x => x).forEach((a, i) => { if (i) d.append(', '); d.append(addressNode(a.trim())); });
  return d;
}
function eventRow(e) {
  const f = e.fields || {};
  const used = new Set(['user']);
  const take = names => { const [n, v] = pick(f, names); if (n) used.add(n); return v; };
  const sender = take(F.sender), recipient = take(F.recipient), subject = take(F.subject);
  const ipPair = pick(f, F.ip); if (ipPair[0]) used.add(ipPair[0]);
  const country = take(F.country), app = take(F.app);
  const filesPair = pick(f, F.files); if (filesPair[0]) { used.add(filesPair[0]); if (filesPair[0] === 'email_attachments') used.add('email_attachment'); }
  const flow = el('td', { class: 'flow' });
  if (sender) flow.append(addressesNode(sender));
  if (recipient) flow.append(' → ');
  if (recipient) flow.append(addressesNode(recipient));
  if (!sender && app) flow.prepend(app + (recipient ? ' ' : ''));
  const ipCell = el('td', {});
  if (ipPair[1]) ipCell.append(pivotNode(ipPair[0], ipPair[1]));
  if (country) ipCell.append(' ', el('span', { class: 'badge' }, country));
  const files = el('td', {});
  if (filesPair[1]) String(filesPair[1]).split(/[,;|]\s*/).filter(x => x).forEach((n, i) => { if (i) files.append(', '); files.append(pivotNode('file', n.trim())); });
  const rest = Object.entries(f).filter(([k]) => !used.has(k)).sort(([a], [b]) => a < b ? -1 : 1);
  const more = el('details', {}, el('summary', {}, `${rest.length} more fields`),
    el('table', { class: 'evidence nested' }, ...rest.map(([k, v]) => el('tr', {}, el('th', {}, human(k)), el('td', {}, v)))));
  return el('tr', { class: 'event' }, el('td', { class: 'time' }, fmtTime(e.time)), el('td', {}, e.activity_type),
    flow, el('td', { class: 'subject' }, subject || ''), ipCell, files, el('td', {}, more));
}
async function showEvents(box, session) {
  const t = await api('/api/timeline?session=' + encodeURIComponent(session));
  const head = el('tr', {}, ...['time (UTC)', 'activity', 'sender → recipient', 'subject', 'IP, country', 'attachments', ''].map(h => el('th', {}, h)));
  box.replaceChildren(el('div', { class: 'muted' }, `${t.events.length} events in this session (kept in memory since the server started)`),
    el('table', { class: 'events' }, el('thead', {}, head), el('tbody', {}, ...t.events.map(eventRow))));
}

// ---- sessions and triage ----------------------------------------------------------------------------
function triageNode(sessionId, live) {
  const t = S.triage[sessionId];
  const box = el('div', { class: 'triage', 'data-triage': sessionId });
  const state = el('span', { class: 'triage-state' });
  if (t) state.append(el('span', { class: 'badge ' + t.decision }, t.decision === 'accept' ? 'accepted' : 'dismissed'), ' ', t.comment ? `“${t.comment}”` : '', ' ', el('span', { class: 'muted' }, fmtTime(t.decided)));
  const comment = el('input', { type: 'text', placeholder: 'comment (why accepted / dismissed)', maxlength: 4000, 'aria-label': 'comment' });
  const send = async (decision) => {
    try {
      const r = await api('/api/triage', { session: sessionId, decision, comment: comment.value });
      if (decision === 'reopen') delete S.triage[sessionId]; else S.triage[sessionId] = r;
      renderQueue();
      box.replaceWith(triageNode(sessionId, live));
    } catch (e) { showError(e); }
  };
  const acc = el('button', { class: 'accept' }, 'Accept'); acc.onclick = () => send('accept');
  const dis = el('button', { class: 'dismiss' }, 'Dismiss'); dis.onclick = () => send('dismiss');
  box.append(state, comment, acc, dis);
  if (t) { const re = el('button', {}, 'Reopen'); re.onclick = () => send('reopen'); box.append(re); }
  return box;
}
function sessionNode(s, user, expanded) {
  const sum = s.summary || {};
  const live = !!s.open;
  const score = sum.score !== undefined ? sum.score : (s.score || 0);
  const div = el('div', { class: 'session' + (sum.notable ? ' notable' : '') + (live ? ' live' : ''), 'data-session': s.session, id: 'session-' + s.session });
  const head = el('div', { class: 'session-head' }, el('h3', {}, `Session ${s.session}`), el('span', { class: 'score' }, `score ${score}`),
    sum.notable ? el('span', { class: 'badge flag' }, 'notable') : null, live ? el('span', { class: 'badge live' }, 'live') : null,
    el('span', { class: 'muted' }, sum.start ? `${fmtTime(sum.start)} – ${fmtTime(sum.end)}` : 'open session'),
    el('span', { class: 'muted' }, `${s.rules.length} triggers`));
  div.append(head, triageNode(s.session, live));
  const body = el('div', { class: 'session-body' });
  const fill = () => {
    const rules = s.rules.slice().sort((a, b) => a.time < b.time ? -1 : a.time > b.time ? 1 : 0);
    body.replaceChildren(el('div', { class: 'muted' }, 'Triggers'));
    for (const r of rules) body.append(triggerNode(r, user, true));
    const evBox = el('div', { class: 'events-box' });
    body.append(el('div', { class: 'muted' }, 'Events'), evBox);
    showEvents(evBox, s.session).catch(showError);
  };
  if (expanded) fill();
  else { const b = el('button', {}, 'show triggers and events'); b.onclick = () => { fill(); }; body.append(b); }
  div.append(body);
  return div;
}
function selectSession(id) {
  S.session = id;
  if (S.user) showUser(S.user, id);
}
async function showUser(user, session) {
  try {
    const [card, data] = await Promise.all([api('/api/user?user=' + encodeURIComponent(user)), api('/api/sessions?user=' + encodeURIComponent(user))]);
    S.user = user; S.card = card;
    const list = data.sessions || [];
    if (!session || !list.some(s => s.session === session)) {
      const best = list.slice().sort((a, b) => ((b.summary || {}).score || b.score || 0) - ((a.summary || {}).score || a.score || 0))[0];
      session = best && best.session;
    }
    S.session = session;
    renderQueue();
    renderCard(card);
    renderRisk(card);
    const box = document.getElementById('sessions');
    const expandAll = param('expand') !== null;
    const ordered = list.slice().sort((a, b) => String((b.summary || {}).start || '~') < String((a.summary || {}).start || '~') ? -1 : 1);
    box.replaceChildren(el('h3', {}, `Sessions of ${user}`), ...ordered.map(s => sessionNode(s, user, s.session === session || expandAll)));
  } catch (e) { showError(e); }
}

// ---- pivot ------------------------------------------------------------------------------------------
async function showPivot(field, value) {
  const box = document.getElementById('pivot');
  try {
    const p = await api('/api/pivot?field=' + encodeURIComponent(field) + '&value=' + encodeURIComponent(value));
    const close = el('button', {}, 'close'); close.onclick = () => { box.hidden = true; box.replaceChildren(); };
    const users = el('table', { class: 'pivot-users' }, el('thead', {}, el('tr', {}, ...['user', 'events', 'first', 'last', 'fields', 'rule triggers'].map(h => el('th', {}, h)))));
    const tb = el('tbody', {});
    for (const u of p.users) {
      const name = el('span', { class: 'link' }, u.user); name.onclick = () => showUser(u.user);
      tb.append(el('tr', { class: 'pivot-user', 'data-user': u.user }, el('td', {}, name), el('td', { class: 'num' }, u.events), el('td', {}, fmtTime(u.first)),
        el('td', {}, fmtTime(u.last)), el('td', {}, (u.fields || []).join(', ')), el('td', { class: 'num' }, u.alerts)));
    }
    users.append(tb);
    const alerts = el('table', { class: 'pivot-alerts' }, el('thead', {}, el('tr', {}, ...['time', 'user', 'rule', 'session'].map(h => el('th', {}, h)))),
      el('tbody', {}, ...p.alerts.slice(0, 50).map(a => el('tr', {}, el('td', {}, fmtTime(a.time)), el('td', {}, a.user), el('td', {}, `${a.rule} ${a.name}`), el('td', {}, a.session)))));
    box.replaceChildren(el('div', { class: 'session-head' }, el('h3', { id: 'pivot-title' }, `Everyone who touched ${p.kind} ${p.value}`),
      el('span', { class: 'muted' }, `${p.user_count} users, ${p.alert_count} rule triggers, ${p.events_scanned} kept events searched`), close),
      users, p.alerts.length ? el('h3', {}, 'Rule triggers with it in their evidence') : null, p.alerts.length ? alerts : null);
    box.hidden = false;
  } catch (e) { showError(e); }
}

// ---- start ------------------------------------------------------------------------------------------
async function load() {
  try {
    for (const [id, key] of [['filter-q', 'q'], ['filter-from', 'from'], ['filter-to', 'to']]) { const v = param(key); if (v) document.getElementById(id).value = v; }
    if (param('triaged') === '1') document.getElementById('filter-triaged').checked = true;
    for (const id of ['filter-q', 'filter-from', 'filter-to', 'filter-triaged']) document.getElementById(id).addEventListener('input', renderQueue);
    const [content, notable, triage] = await Promise.all([api('/api/content'), api('/api/notable'), api('/api/triage')]);
    for (const r of content.rules || []) S.rules[r.id] = r;
    S.notable = (notable.sessions || []).filter(s => s && s.session);
    for (const d of triage.decisions || []) S.triage[d.session] = d;
    document.getElementById('summary').textContent = `${S.notable.length} notable sessions · ${(notable.users || []).length} notable users`;
    renderQueue();
    const wantSession = param('session'), wantUser = param('user');
    const first = document.querySelector('#session-rows tr');
    if (wantSession) {
      const s = S.notable.find(x => x.session === wantSession);
      await showUser(wantUser || (s && s.user) || '', wantSession);
    } else if (wantUser) await showUser(wantUser);
    else if (first) await showUser(first.getAttribute('data-user'), first.getAttribute('data-session'));
    const pv = param('pivot');
    if (pv && pv.includes(':')) await showPivot(pv.slice(0, pv.indexOf(':')), pv.slice(pv.indexOf(':') + 1));
  } catch (e) { showError(e); }
}
load();
"""##
}
