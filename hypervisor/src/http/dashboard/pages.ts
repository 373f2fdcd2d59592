// SPDX-License-Identifier: Apache-2.0
/**
 * The dashboard's two HTML pages and its style sheet. No inline script or style anywhere: the
 * Content-Security-Policy the routes send allows only this origin's files.
 */

import { HISTORY_KINDS } from "../../observability/history.js";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, script = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/dashboard/assets/style.css">
${script === "" ? "" : `<script type="module" src="/dashboard/assets/${script}"></script>`}
</head>
<body>
${body}
</body>
</html>
`;
}

/** The login form: it POSTs the admin token, never puts it in a URL. */
export function loginPage(error?: string): string {
  const message =
    error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(error)}</p>`;
  return page(
    "hmx dashboard: log in",
    `<main class="login">
<h1>hmx dashboard</h1>
<form method="post" action="/dashboard/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
${message}
<p class="hint">The toolstack's admin token (<code>HMX_ADMIN_TOKEN</code>; <code>hmx up</code> leaves it in its connection file).</p>
</main>`,
  );
}

/** The history tail's filter: a kind, and for hypercalls the op (`f`: sendv, registerRing…). */
function historyFilter(): string {
  const kinds = HISTORY_KINDS.map((k) => `<option value="${k}">${k}</option>`).join("");
  return `<form id="history-filter" class="filter">
<label>kind <select id="history-kind"><option value="">all</option>${kinds}</select></label>
<label>op <input id="history-op" type="search" size="12" placeholder="e.g. sendv" autocomplete="off"></label>
</form>`;
}

/** The dashboard itself: empty panels that `main.js` fills from /v1/state and the history. */
export function dashboardPage(): string {
  return page(
    "hmx dashboard",
    `<header>
<h1>hmx</h1>
<span id="connection" class="connection" data-state="connecting">connecting</span>
<span id="totals" class="totals"></span>
<form method="post" action="/dashboard/logout"><button type="submit">Log out</button></form>
</header>
<main class="grid">
<section class="panel wide"><h2>Domains and rings</h2><table id="domains"><thead><tr><th>domid</th><th>name</th><th>label</th><th>link</th><th>rings (fill)</th></tr></thead><tbody></tbody></table></section>
<section class="panel"><h2>Flows <small>messages/s, last 5 s</small></h2><svg id="flows" viewBox="0 0 400 300" role="img" aria-label="flows between domains"></svg></section>
<section class="panel"><h2>Message rate <small>per second, last 60 s</small></h2><svg id="rates" viewBox="0 0 400 200" role="img" aria-label="message rate over time"></svg><p class="legend"><span class="key messages"></span>messages <span class="key denials"></span>MAC denials</p></section>
<section class="panel"><h2>MAC denials <output id="denial-count">0</output></h2><ol id="denials" class="list"></ol></section>
<section class="panel"><h2>Faults <output id="fault-count">0</output></h2><ul id="faults" class="list"></ul></section>
<section class="panel wide"><h2>History <small id="history-seq"></small></h2>${historyFilter()}<ol id="history" class="list mono"></ol></section>
</main>`,
    "main.js",
  );
}

export const STYLE_SHEET = `
:root { color-scheme: light dark; --fg: #1d2430; --bg: #f6f7f9; --panel: #fff; --line: #d5d9e0;
  --accent: #2563eb; --bad: #dc2626; --good: #16a34a; --muted: #6b7280; font-family: system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --fg: #e5e7eb; --bg: #111418; --panel: #1b1f25; --line: #343a44; --muted: #9ca3af; } }
body { margin: 0; background: var(--bg); color: var(--fg); font-size: 14px; }
header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; margin: 0; }
header form { margin-left: auto; }
.connection[data-state="live"] { color: var(--good); }
.connection[data-state="closed"], .connection[data-state="connecting"] { color: var(--bad); }
.totals { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 1rem; padding: 1rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { font-size: 1rem; margin: .25rem 0 .5rem; }
.panel h2 small { color: var(--muted); font-weight: normal; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.link-up { color: var(--good); } .link-down { color: var(--bad); }
.ring { display: inline-flex; align-items: center; gap: .3rem; margin-right: 1rem; }
meter { width: 6rem; }
.filter { display: flex; gap: 1rem; margin-bottom: .5rem; color: var(--muted); }
.list { margin: 0; padding-left: 1.2rem; max-height: 16rem; overflow-y: auto; }
.mono { font-family: ui-monospace, monospace; font-size: 12px; }
.mono li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.kind-mac, .kind-gap, .fail { color: var(--bad); }
.kind-fault { color: #d97706; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--fg); font-size: 12px; }
.node circle { fill: var(--panel); stroke: var(--accent); stroke-width: 2; }
.node.down circle { stroke: var(--muted); stroke-dasharray: 4 3; }
.edge { stroke: var(--accent); fill: none; }
.edge.denied { stroke: var(--bad); stroke-dasharray: 5 4; }
.edge-label { font-size: 11px; paint-order: stroke; stroke: var(--panel); stroke-width: 3px; }
.arrow-head { fill: var(--accent); } .arrow-head.denied { fill: var(--bad); }
.axis { stroke: var(--line); }
.series.messages { stroke: var(--accent); fill: none; stroke-width: 2; }
.series.denials { stroke: var(--bad); fill: none; stroke-width: 2; }
.legend { color: var(--muted); margin: .25rem 0; }
.key { display: inline-block; width: .8rem; height: .2rem; margin: 0 .3rem 0 .8rem; vertical-align: middle; }
.key.messages { background: var(--accent); } .key.denials { background: var(--bad); }
.login { max-width: 24rem; margin: 4rem auto; display: grid; gap: .75rem; }
.login form { display: grid; gap: .5rem; }
.login input { padding: .4rem; font: inherit; }
.error { color: var(--bad); }
.hint { color: var(--muted); }
`;
