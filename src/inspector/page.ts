/**
 * The inspector page: one self-contained HTML document (inline CSS, inline
 * script, SVG charts; no CDN, no framework) that polls the JSON next to it
 * and redraws. Values from the JSON reach the page only as text
 * (`textContent`), never as markup.
 */
import { INSPECTOR_SCRIPT } from "./page-script.js";

/** What the page is built with. */
export interface PageSettings {
  /** Absolute path of the JSON the page polls. */
  jsonPath: string;
  /** How often the page polls (ms). */
  refreshMs: number;
  /** Shown in the page's heading and title. */
  title: string;
  /** The Content-Security-Policy nonce of the inline script and style. */
  nonce: string;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #667085; --bg: #f6f7f9; --card: #fff; --line: #e3e6ea; --accent: #2f6fde; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #98a2b3; --bg: #14171c; --card: #1c2027; --line: #2c323c; --accent: #6ea1ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 17px; margin: 0; }
#status { color: var(--muted); font-size: 13px; }
#status.error { color: #d92d20; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; padding: 16px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 14px; margin: 0 0 8px; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 10px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.shape { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; white-space: normal; word-break: break-all; }
td.num, th.num { text-align: right; }
.scroll { max-height: 280px; overflow: auto; }
.empty { color: var(--muted); font-style: italic; }
svg { width: 100%; height: 180px; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { fill: var(--muted); font-size: 10px; }
svg polyline { fill: none; stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 6px; font-size: 12px; }
.legend .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.advice-cache { color: #12805c; font-weight: 600; } .advice-maybe { color: #b54708; font-weight: 600; }
.advice-skip { color: #b42318; } .advice-wait { color: var(--muted); }
`;

const BODY = `
<header><h1 id="title"></h1><span id="status">connecting...</span></header>
<main>
  <section class="wide"><h2>This instance</h2><div class="cards" id="cards"></div></section>
  <section class="wide"><h2>Hit ratio over time, per model</h2>
    <svg id="ratio-chart" viewBox="0 0 600 180" role="img" aria-label="hit ratio per model over time"></svg>
    <div class="legend" id="ratio-legend"></div>
    <p class="note" id="ratio-note">Cached reads answered by a tier (scope, in-process, Redis) per refresh; reads that were not cached are left out.</p>
  </section>
  <section><h2>Tier latency (ms)</h2><table id="latency"></table><p class="note" id="latency-note"></p></section>
  <section><h2>Reads per model</h2><div class="scroll"><table id="models"></table></div></section>
  <section><h2>Hot query shapes</h2><div class="scroll"><table id="hot-shapes"></table></div></section>
  <section><h2>Hot keys (hashed)</h2><div class="scroll"><table id="hot-keys"></table></div></section>
  <section><h2>Recent invalidations</h2><div class="scroll"><table id="invalidations"></table></div><p class="note" id="invalidation-causes"></p></section>
  <section><h2>Stampede and failure signals</h2><table id="signals"></table><p class="note">Since start. Joined loads and lock waits rising with misses mean a stampede is being absorbed; early loads, breaker skips and errors mean Redis is struggling.</p></section>
  <section><h2>Admission decisions</h2><div class="scroll"><table id="admission"></table></div><p class="note" id="admission-note"></p></section>
  <section class="wide"><h2>Advisor: what caching the uncached reads would give</h2><div class="scroll"><table id="advisor"></table></div><p class="note" id="advisor-note"></p></section>
</main>`;

/** The page, for the JSON at `settings.jsonPath`. */
export function inspectorPage(settings: PageSettings): string {
  // JSON is not safe inside <script> as is: "</script>" or "<!--" in a title would end or bend it.
  const config = JSON.stringify({
    jsonPath: settings.jsonPath,
    refreshMs: settings.refreshMs,
    title: settings.title,
  }).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(settings.title)} inspector</title>
<style nonce="${settings.nonce}">${STYLE}</style>
</head>
<body>${BODY}
<script nonce="${settings.nonce}">
const CONFIG = ${config};
${INSPECTOR_SCRIPT}
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
