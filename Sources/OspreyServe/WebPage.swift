/// The analyst page at /ui, triage-first: notable sessions ranked by score (filterable by user, rule, ATT&CK
/// technique and date; open sessions marked live; accepted / dismissed ones hidden behind a toggle), and for
/// the chosen user a card (department, title, manager, flags, peer group), their risk over time (an inline SVG
/// chart of their sessions across days), each session's triggers (MITRE tags, reason, evidence as a table
/// beside the baseline histogram), the session's events as readable rows, a pivot from an IP, domain or file
/// name to everyone who touched it, and accept / dismiss with a comment.
///
/// Plain HTML + CSS + JS over the REST API, no external resources. Every value from the API is inserted as
/// text (`textContent` / `createElement`), never as markup. The API token is taken from the URL fragment
/// (`/ui#token=…`, never sent to the server in the URL) or asked for. Fragment parameters: `user=U` (that
/// user's timeline), `session=S`, `pivot=FIELD:VALUE`, `q=TEXT`, `from=YYYY-MM-DD`, `to=YYYY-MM-DD`,
/// `triaged=1` (show accepted / dismissed sessions), `expand` (load every baseline histogram and all events).
enum WebPage {
    static let html = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Osprey — triage</title>
    <style>
    \(WebPageStyle.css)
    </style>
    </head>
    <body>
    <header><span class="brand">Osprey</span> <span id="summary">triage</span></header>
    <div id="error" role="alert"></div>
    <main>
      <section id="queue">
        <h2 class="section-title">Notable sessions</h2>
        <div class="filters">
          <input id="filter-q" type="search" placeholder="user, rule or technique (e.g. T1078)" aria-label="filter">
          <label>from <input id="filter-from" type="date"></label>
          <label>to <input id="filter-to" type="date"></label>
          <label class="toggle"><input id="filter-triaged" type="checkbox"> show accepted / dismissed</label>
        </div>
        <div id="queue-count" class="muted"></div>
        <table class="queue"><thead><tr><th class="num">score</th><th>user</th><th>start (UTC)</th><th>rules</th><th>state</th></tr></thead>
        <tbody id="session-rows"></tbody></table>
      </section>
      <section id="detail">
        <div id="pivot" hidden></div>
        <div id="user-card"><h2 id="detail-title" class="section-title">Pick a session</h2></div>
        <div id="risk"></div>
        <div id="sessions"></div>
      </section>
    </main>
    <script>
    \(WebPageScript.js)
    </script>
    </body>
    </html>
    """
}
