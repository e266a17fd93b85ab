/// The page's stylesheet (see WebPage).
enum WebPageStyle {
    static let css = ##"""
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #eef1f5; }
header { background: #1d2b4a; color: #fff; padding: 10px 20px; font-size: 17px; display: flex; gap: 16px; align-items: baseline; }
header .brand { font-weight: 600; font-size: 19px; }
header #summary { color: #c8d2ea; font-size: 13px; }
main { display: flex; gap: 14px; padding: 14px; align-items: flex-start; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; }
#queue { width: 540px; flex: none; position: sticky; top: 8px; max-height: calc(100vh - 16px); overflow-y: auto; }
#detail { flex: 1; min-width: 0; }
.section-title { font-size: 16px; margin: 4px 0 10px; white-space: nowrap; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.muted { color: #667085; font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
th { font-weight: 600; color: #475067; font-size: 12px; white-space: nowrap; }
td.num, th.num { text-align: right; }
.filters { display: flex; flex-wrap: wrap; gap: 6px 10px; margin-bottom: 6px; font-size: 12px; }
.filters input[type=search] { flex: 1 1 100%; padding: 5px 8px; font-size: 13px; border: 1px solid #c5ccd8; border-radius: 4px; }
.filters input[type=date] { font-size: 12px; }
table.queue { table-layout: fixed; }
table.queue td { font-size: 13px; }
table.queue th:nth-child(1) { width: 44px; } table.queue th:nth-child(3) { width: 96px; }
table.queue th:nth-child(4) { width: 150px; } table.queue th:nth-child(5) { width: 76px; }
td.user-cell { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; } td.start-cell { font-size: 12px; color: #475067; }
tr.notable-session { cursor: pointer; }
tr.notable-session:hover { background: #eef3ff; }
tr.notable-session.selected { background: #dfe8ff; }
tr.notable-session.triaged { color: #7a8294; }
.score { font-weight: 700; color: #b3261e; }
.rules-cell { font-size: 11px; color: #475067; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 9px; background: #e6e9ef; color: #333; margin: 1px 2px 1px 0; white-space: nowrap; }
.badge.live { background: #ffe2b8; color: #7a3f00; font-weight: 600; }
.badge.accept { background: #d7f0dd; color: #11602a; }
.badge.dismiss { background: #e6e9ef; color: #555; }
.badge.flag { background: #fde2e1; color: #8c1d18; font-weight: 600; }
.badge.mitre { background: #e3ebff; color: #1c3f95; }
.card { display: flex; flex-wrap: wrap; gap: 4px 28px; align-items: baseline; }
.card h2 { margin: 0 12px 0 0; font-size: 19px; }
#user-card dl { display: grid; grid-template-columns: max-content auto; gap: 2px 10px; margin: 6px 0; font-size: 13px; }
#user-card dt { color: #667085; }
#user-card dd { margin: 0; }
#risk svg { display: block; max-width: 100%; }
#risk .bar { fill: #d6def0; }
#risk .pt { fill: #3a6fd8; cursor: pointer; }
#risk .pt.notable { fill: #b3261e; }
#risk .pt.selected { stroke: #111; stroke-width: 2.5; }
#risk .axis { stroke: #9aa3b5; stroke-width: 1; }
#risk text { font-size: 10px; fill: #667085; }
.session { margin: 12px 0; border-left: 4px solid #8a94a8; padding: 4px 0 4px 12px; }
.session.notable { border-color: #b3261e; }
.session.live { border-color: #e08a00; }
.session-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
.session-head h3 { margin: 0; }
.triage { display: flex; gap: 6px; align-items: center; margin: 6px 0; flex-wrap: wrap; }
.triage input { flex: 1 1 260px; padding: 4px 6px; font-size: 12px; border: 1px solid #c5ccd8; border-radius: 4px; }
.triage-state { font-size: 12px; color: #475067; }
button { font-size: 12px; padding: 3px 9px; border: 1px solid #b8c0cf; border-radius: 4px; background: #f7f8fb; cursor: pointer; }
button.accept { border-color: #5aa56e; }
button.dismiss { border-color: #9aa3b5; }
.trigger { margin: 8px 0; padding: 8px 10px; background: #f7f8fb; border-radius: 5px; }
.trigger-head { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
.trigger .reason { margin: 4px 0; }
.trigger-body { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
table.evidence { width: auto; min-width: 260px; max-width: 560px; font-size: 12px; background: #fff; }
table.evidence th { width: 1%; }
table.evidence td { word-break: break-word; }
table.top-values { width: auto; font-size: 11px; }
table.top-values td { border: none; padding: 0 6px 0 0; }
.share { display: inline-block; height: 8px; background: #3a6fd8; vertical-align: middle; margin-right: 4px; }
.hist { flex: 1 1 300px; min-width: 260px; font-size: 12px; }
.hist-title { color: #475067; margin-bottom: 3px; }
.hbar { display: flex; align-items: center; gap: 6px; font-size: 11px; }
.hbar .fill { background: #3a6fd8; height: 10px; }
.hbar.current .fill { background: #b3261e; }
.hbar .label { width: 200px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.events { font-size: 12px; margin-top: 4px; }
table.events td { word-break: break-word; }
table.events td.time { white-space: nowrap; color: #475067; }
.pivot { color: #1c3f95; text-decoration: underline dotted; cursor: pointer; }
.pivot:hover { background: #e3ebff; }
#pivot { border: 1px solid #c5d3f5; background: #f5f8ff; border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; }
#pivot table { font-size: 12px; }
.link { color: #1c3f95; cursor: pointer; text-decoration: underline; }
details summary { cursor: pointer; color: #667085; }
#error { color: #b3261e; padding: 0 20px; }
"""##
}
