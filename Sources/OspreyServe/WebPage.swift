/// The analyst page at /ui: notable users, a user's session timeline with each rule's reason and
/// evidence, and the histogram behind a model rule. Plain HTML + JS over the REST API; the API token is
/// taken from the URL fragment (`/ui#token=…`, never sent to the server in the URL) or asked for.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Osprey</title>
<style>
body { font: 14px/1.4 sans-serif; margin: 0; color: #1d2330; background: #f4f6f9; }
header { background: #1d2b4a; color: #fff; padding: 10px 20px; font-size: 18px; }
main { display: flex; gap: 16px; padding: 16px; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; }
#users { width: 320px; flex: none; }
#detail { flex: 1; min-width: 0; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid #e3e7ee; }
tr.user { cursor: pointer; } tr.user:hover { background: #eef3ff; }
.score { font-weight: bold; color: #b3261e; }
.session { margin: 12px 0; border-left: 4px solid #1d2b4a; padding-left: 10px; }
.session.notable { border-color: #b3261e; }
.rule { margin: 6px 0; padding: 6px 8px; background: #f7f8fb; border-radius: 4px; }
.rule .reason { margin: 2px 0; }
.rule pre { margin: 4px 0 0; font-size: 12px; white-space: pre-wrap; word-break: break-all; color: #444; }
.hist { margin: 6px 0 0 0; }
.bar { display: flex; align-items: center; gap: 6px; font-size: 12px; }
.bar .fill { background: #3a6fd8; height: 12px; }
.bar.current .fill { background: #b3261e; }
.events td { font-size: 12px; vertical-align: top; } .events td.fields { color: #555; word-break: break-all; }
.bar .label { width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
button { font-size: 12px; }
#error { color: #b3261e; }
</style>
</head>
<body>
<header>Osprey — notable users</header>
<div id="error"></div>
<main>
  <section id="users"><h3>Notable users</h3><table><thead><tr><th>user</th><th>score</th><th>notable</th></tr></thead><tbody id="user-rows"></tbody></table>
  <h4>All users with alerts</h4><table><tbody id="all-rows"></tbody></table></section>
  <section id="detail"><h3 id="detail-title">Pick a user</h3><div id="sessions"></div></section>
</main>
<script>
function token() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) sessionStorage.setItem('ospreyToken', decodeURIComponent(m[1]));
  return sessionStorage.getItem('ospreyToken') || '';
}
async function api(path) {
  const r = await fetch(path, { headers: { 'Authorization': 'Bearer ' + token() } });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) { if (k === 'class') e.className = v; else e.setAttribute(k, v); }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function userRow(u) {
  const tr = el('tr', { class: 'user', 'data-user': u.user }, el('td', {}, u.user), el('td', { class: 'score' }, u.max_score), el('td', {}, u.notable_sessions));
  tr.onclick = () => showUser(u.user);
  return tr;
}
async function load() {
  try {
    const n = await api('/api/notable');
    const rows = document.getElementById('user-rows');
    rows.replaceChildren(...n.users.map(userRow));
    const all = await api('/api/users');
    document.getElementById('all-rows').replaceChildren(...all.users.filter(u => u.notable_sessions === 0).slice(0, 50).map(userRow));
    const wanted = (location.hash.match(/user=([^&]+)/) || [])[1];
    const first = wanted ? decodeURIComponent(wanted) : (n.users[0] && n.users[0].user);
    if (first) await showUser(first);
  } catch (e) { document.getElementById('error').textContent = String(e); }
}
async function showHistogram(box, user, model, current) {
  const data = await api('/api/models?user=' + encodeURIComponent(user) + '&model=' + encodeURIComponent(model));
  box.replaceChildren();
  for (const b of data.baselines) {
    const max = Math.max(1, ...b.values.map(v => v.count));
    box.append(el('div', { class: 'hist-title' }, `Baseline now — ${b.name} (${b.kind}, key ${user}): ${b.observations} observations, ${b.distinct} distinct, ${b.converged ? 'converged' : 'not converged'}; red = the value this rule saw (the evidence above holds the counts at alert time)`));
    for (const v of b.values.slice(0, 20)) {
      const bar = el('div', { class: 'bar' + (current.includes(v.label) ? ' current' : '') }, el('span', { class: 'label', title: v.label }, v.label),
        el('span', { class: 'fill', style: `width:${Math.round(300 * v.count / max)}px` }), el('span', {}, v.count));
      box.append(bar);
    }
  }
  if (!data.baselines.length) box.append(el('div', {}, 'no baseline held for this user and model'));
}
async function showUser(user) {
  document.getElementById('detail-title').textContent = 'Sessions of ' + user;
  const data = await api('/api/sessions?user=' + encodeURIComponent(user));
  const box = document.getElementById('sessions');
  box.replaceChildren();
  for (const s of data.sessions) {
    const sum = s.summary;
    const div = el('div', { class: 'session' + (sum && sum.notable ? ' notable' : ''), 'data-session': s.session });
    div.append(el('h4', {}, s.session + (sum ? ` — score ${sum.score}${sum.notable ? ' (notable)' : ''}, ${sum.start} – ${sum.end}` : ' — open')));
    const rules = s.rules.slice().sort((a, b) => a.time < b.time ? -1 : a.time > b.time ? 1 : 0);
    for (const r of rules) {
      const rd = el('div', { class: 'rule', 'data-rule': r.rule },
        el('div', {}, el('b', {}, r.time + ' ' + r.rule), ' ', r.name, ' ', el('span', { class: 'score' }, '+' + r.score)),
        el('div', { class: 'reason' }, r.reason),
        el('pre', { class: 'evidence' }, JSON.stringify(r.evidence)));
      const ev = r.evidence || {};
      if (ev.model) {
        const hb = el('div', { class: 'hist' });
        const btn = el('button', {}, 'show baseline ' + ev.model);
        const current = [ev.value].filter(x => x !== undefined).map(String);
        btn.onclick = () => showHistogram(hb, ev.key || user, ev.model, current);
        rd.append(btn, hb);
        if (rules.indexOf(r) === 0 || location.hash.includes('expand')) showHistogram(hb, ev.key || user, ev.model, current);
      }
      div.append(rd);
    }
    const evBox = el('div', { class: 'events' });
    const evBtn = el('button', {}, 'show events');
    evBtn.onclick = () => showEvents(evBox, s.session);
    div.append(evBtn, evBox);
    box.append(div);
    if (data.sessions.indexOf(s) === 0 || location.hash.includes('expand')) showEvents(evBox, s.session);
  }
}
async function showEvents(box, session) {
  const t = await api('/api/timeline?session=' + encodeURIComponent(session));
  const rows = t.events.map(e => {
    const f = Object.entries(e.fields).filter(([k]) => k !== 'user').slice(0, 8).map(([k, v]) => k + '=' + v).join('  ');
    return el('tr', { class: 'event' }, el('td', {}, e.time), el('td', {}, e.activity_type), el('td', { class: 'fields' }, f));
  });
  box.replaceChildren(el('div', {}, `${t.events.length} events in this session (kept in memory since the server started)`),
    el('table', {}, el('tbody', {}, ...rows)));
}
load();
</script>
</body>
</html>
"""#
}
