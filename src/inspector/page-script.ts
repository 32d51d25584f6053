/**
 * The inspector page's script, run in the browser: polls the JSON every
 * `CONFIG.refreshMs`, keeps the hit-ratio history in the page (from the
 * differences between two readings of the counters), and redraws. Kept
 * dependency-free and ES2017, and free of template literals, since it lives in
 * a string here. Data reach the DOM through `textContent` only. Wrapped in a
 * function: a top-level `var history` would be the window's own.
 */
export const INSPECTOR_SCRIPT = String.raw`
(function () {
"use strict";
var HISTORY = 90;
var COLORS = ["#2f6fde", "#12805c", "#b54708", "#9e2cb8", "#d92d20", "#0e7c86", "#6941c6", "#c11574", "#4e5ba6", "#667085"];
var SVG = "http://www.w3.org/2000/svg";
var ratioHistory = new Map();
var previous = null;
var colorOf = new Map();
document.getElementById("title").textContent = CONFIG.title + " inspector";

function el(tag, text, className) {
  var node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}
function pct(ratio) { return ratio === undefined || ratio === null || isNaN(ratio) ? "-" : (ratio * 100).toFixed(1) + "%"; }
function ms(value) { return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3); }
function bytes(n) { return n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KB" : (n / 1048576).toFixed(1) + " MB"; }
function duration(v) { return v === undefined || v === null ? "-" : v % 3600000 === 0 ? v / 3600000 + "h" : v % 60000 === 0 ? v / 60000 + "m" : v / 1000 + "s"; }
function time(at) { return new Date(at).toLocaleTimeString(); }
function hits(reads) { return reads.scope + reads.l1 + reads.l2; }

/** Replaces the table's content: a header row and one row per item; cells are [text, className?]. */
function fill(table, headers, rows, emptyText) {
  table.replaceChildren();
  var head = el("tr");
  headers.forEach(function (h) { head.appendChild(el("th", h[0], h[1])); });
  table.appendChild(el("thead")).appendChild(head);
  var body = table.appendChild(el("tbody"));
  if (rows.length === 0) {
    var empty = el("td", emptyText, "empty");
    empty.colSpan = headers.length;
    body.appendChild(el("tr")).appendChild(empty);
    return;
  }
  rows.forEach(function (cells) {
    var tr = body.appendChild(el("tr"));
    cells.forEach(function (cell) { tr.appendChild(el("td", cell[0], cell[1])); });
  });
}

function card(container, id, label, value) {
  var box = container.appendChild(el("div", null, "card"));
  var v = box.appendChild(el("div", value, "value"));
  v.id = id;
  box.appendChild(el("div", label, "label"));
}

function renderCards(s, readsPerSecond) {
  var t = s.totals;
  var cached = t.l1Hits + t.l2Hits + t.scopeHits + t.misses;
  var container = document.getElementById("cards");
  container.replaceChildren();
  card(container, "hit-ratio", "hit ratio (cached reads, since start)", pct(cached === 0 ? NaN : (t.l1Hits + t.l2Hits + t.scopeHits) / cached));
  card(container, "reads-total", "reads (cached + uncached)", cached + t.bypassed + t.notAdmitted);
  card(container, "reads-rate", "reads / s (last refresh)", readsPerSecond === null ? "-" : readsPerSecond.toFixed(1));
  card(container, "l1-entries", "in-process entries", t.l1Entries);
  card(container, "l1-bytes", "in-process bytes", bytes(t.l1Bytes));
  card(container, "invalidations-total", "tag invalidations", t.invalidations);
  card(container, "errors-total", "absorbed errors", t.errors);
  card(container, "breaker", "circuit breaker", t.breaker);
}

/** Appends this refresh's hit ratio per model (and overall) to the history, from the counters' differences. */
function record(s) {
  var now = s.at;
  var points = new Map();
  var t = s.totals;
  var allNow = { h: t.l1Hits + t.l2Hits + t.scopeHits, n: t.l1Hits + t.l2Hits + t.scopeHits + t.misses };
  if (previous !== null) {
    var p = previous.totals;
    var allBefore = { h: p.l1Hits + p.l2Hits + p.scopeHits, n: p.l1Hits + p.l2Hits + p.scopeHits + p.misses };
    var n = allNow.n - allBefore.n;
    points.set("all models", n > 0 ? (allNow.h - allBefore.h) / n : null);
    var before = new Map(previous.models.map(function (m) { return [m.model, m]; }));
    s.models.forEach(function (m) {
      var b = before.get(m.model);
      var h = hits(m.reads) - (b ? hits(b.reads) : 0);
      var c = hits(m.reads) + m.reads.db - (b ? hits(b.reads) + b.reads.db : 0);
      points.set(m.model, c > 0 ? h / c : null);
    });
  }
  points.forEach(function (ratio, model) {
    if (!ratioHistory.has(model)) ratioHistory.set(model, []);
    if (!colorOf.has(model)) colorOf.set(model, COLORS[colorOf.size % COLORS.length]);
  });
  ratioHistory.forEach(function (series, model) {
    series.push({ at: now, ratio: points.has(model) ? points.get(model) : null });
    if (series.length > HISTORY) series.shift();
  });
}

function svg(tag, attributes, text) {
  var node = document.createElementNS(SVG, tag);
  Object.keys(attributes).forEach(function (k) { node.setAttribute(k, String(attributes[k])); });
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderChart() {
  var chart = document.getElementById("ratio-chart");
  var legend = document.getElementById("ratio-legend");
  chart.replaceChildren();
  legend.replaceChildren();
  // One user unit per CSS pixel, so that the axis labels are not stretched.
  var W = Math.max(300, Math.round(chart.getBoundingClientRect().width) || 600), H = 180, L = 34, B = 16;
  chart.setAttribute("viewBox", "0 0 " + W + " " + H);
  [0, 0.25, 0.5, 0.75, 1].forEach(function (r) {
    var y = (H - B) - r * (H - B - 14);
    chart.appendChild(svg("line", { x1: L, x2: W, y1: y, y2: y, class: "grid" }));
    chart.appendChild(svg("text", { x: 2, y: y + 3, class: "axis" }, (r * 100) + "%"));
  });
  var span = HISTORY * CONFIG.refreshMs;
  var end = 0;
  ratioHistory.forEach(function (series) { if (series.length) end = Math.max(end, series[series.length - 1].at); });
  chart.appendChild(svg("text", { x: L, y: H - 3, class: "axis" }, "-" + Math.round(span / 1000) + "s"));
  chart.appendChild(svg("text", { x: W - 24, y: H - 3, class: "axis" }, "now"));
  ratioHistory.forEach(function (series, model) {
    var color = colorOf.get(model);
    // A refresh without cached reads of the model leaves a gap: one polyline per run of points.
    var runs = [[]];
    series.forEach(function (point) {
      if (point.ratio === null) { if (runs[runs.length - 1].length) runs.push([]); return; }
      var x = L + (W - L) * (1 - (end - point.at) / span);
      var y = (H - B) - point.ratio * (H - B - 14);
      runs[runs.length - 1].push(x.toFixed(1) + "," + y.toFixed(1));
    });
    runs.forEach(function (run) {
      if (run.length === 1) run.push(run[0]);
      if (run.length) chart.appendChild(svg("polyline", { points: run.join(" "), stroke: color, "data-model": model }));
    });
    var last = null;
    for (var i = series.length - 1; i >= 0; i--) if (series[i].ratio !== null) { last = series[i].ratio; break; }
    var item = legend.appendChild(el("span"));
    var swatch = item.appendChild(el("span", null, "swatch"));
    swatch.style.background = color;
    item.appendChild(document.createTextNode(model + " " + pct(last)));
  });
}

function renderTables(s) {
  var tiers = [["scope", "request scope"], ["l1", "in-process"], ["l2", "Redis"], ["db", "database (misses)"]];
  fill(document.getElementById("latency"), [["tier"], ["reads", "num"], ["p50", "num"], ["p95", "num"], ["p99", "num"]],
    s.labelled ? tiers.map(function (t) {
      var l = s.latency[t[0]];
      return [[t[1]], [l.count, "num"], [ms(l.p50), "num"], [ms(l.p95), "num"], [ms(l.p99), "num"]];
    }) : [], "labelled metrics are off");
  document.getElementById("latency-note").textContent = s.labelled ? "" : "Start the extension with metrics: true for latencies, per-model reads and hot keys.";

  fill(document.getElementById("models"), [["model"], ["hit ratio", "num"], ["in-process", "num"], ["Redis", "num"], ["scope", "num"], ["db", "num"], ["uncached", "num"], ["stale", "num"]],
    s.models.map(function (m) {
      var c = hits(m.reads) + m.reads.db;
      return [[m.model], [pct(c === 0 ? NaN : hits(m.reads) / c), "num"], [m.reads.l1, "num"], [m.reads.l2, "num"], [m.reads.scope, "num"], [m.reads.db, "num"], [m.reads.bypass, "num"], [m.stale, "num"]];
    }), s.labelled ? "no reads yet" : "labelled metrics are off");

  fill(document.getElementById("hot-shapes"), [["query"], ["shape group"], ["reads / s", "num"]],
    s.hot.shapes.map(function (h) { return [[h.model + "." + h.operation], [h.shape, "shape"], [h.rate.toFixed(1), "num"]]; }), "none yet");
  fill(document.getElementById("hot-keys"), [["query"], ["key hash"], ["reads / s", "num"]],
    s.hot.keys.map(function (h) { return [[h.model + "." + h.operation], [h.key || "", "shape"], [h.rate.toFixed(1), "num"]]; }), "none yet");

  fill(document.getElementById("invalidations"), [["at"], ["cause"], ["tags"]],
    s.recentInvalidations.map(function (i) { return [[time(i.at)], [i.cause], [i.tags.join(" "), "shape"]]; }), "none yet");
  var causes = s.invalidations;
  document.getElementById("invalidation-causes").textContent = "Tags invalidated since start: " + Object.keys(causes).map(function (k) { return k + " " + causes[k]; }).join(", ") + ".";

  var t = s.totals;
  var signals = [
    ["reads joined to a load already running (single-flight)", t.coalesced],
    ["misses that waited for another process's load (lock)", t.lockWaits],
    ["database reads wasted alongside a Redis hit (early loads)", t.earlyLoads],
    ["stale hits served while refreshing", t.staleHits],
    ["background refreshes / failed", t.refreshes + " / " + t.refreshFailures],
    ["reads that skipped Redis (breaker open) / breaker openings", t.breakerSkips + " / " + t.breakerOpens],
    ["Redis timeouts", s.timeouts]
  ];
  Object.keys(s.evictions).forEach(function (reason) { signals.push(["in-process evictions: " + reason, s.evictions[reason]]); });
  Object.keys(s.errors).forEach(function (code) { signals.push(["absorbed errors: " + code, s.errors[code]]); });
  var byTier = s.errorsByTier || {};
  Object.keys(byTier).forEach(function (tier) { signals.push(["absorbed errors from tier " + tier, byTier[tier]]); });
  fill(document.getElementById("signals"), [["signal"], ["count", "num"]],
    signals.map(function (row) { return [[row[0]], [row[1], "num"]]; }), "");

  fill(document.getElementById("admission"), [["shape"], ["cached"], ["last hit ratio", "num"], ["break-even", "num"], ["window reads", "num"], ["retry at"]],
    s.admission.map(function (a) {
      return [[a.shape, "shape"], [a.admitted ? "yes" : "no"], [pct(a.lastHitRatio), "num"], [pct(a.breakEvenHitRatio), "num"], [a.windowReads, "num"], [a.retryAt ? time(a.retryAt) : "-"]];
    }), "no shape measured (admission: \"auto\" measures opted-in reads)");

  var adv = s.advisor;
  fill(document.getElementById("advisor"), [["advice"], ["query"], ["would hit", "num"], ["break-even", "num"], ["reads", "num"], ["db ms", "num"], ["net ms", "num"], ["entry", "num"], ["suggested ttl", "num"], ["shape"]],
    adv.rows.map(function (r) {
      return [[r.advice, "advice-" + r.advice], [r.model + "." + r.operation], [pct(r.hitRatio), "num"], [pct(r.breakEvenHitRatio), "num"], [r.reads, "num"], [ms(r.dbMs), "num"], [r.netMs.toFixed(0), "num"], [bytes(r.bytes), "num"], [duration(r.suggestedTtlMs), "num"], [r.shape.slice(r.model.length + r.operation.length + 2), "shape"]];
    }), adv.enabled ? "no uncached reads observed yet" : "the advisor is off");
  document.getElementById("advisor-note").textContent = adv.enabled
    ? "Would-be hits: a repeat of a key with no write to what it reads in between. Net ms and break-even assume a miss adds " + adv.missOverheadMs + " ms. " + adv.trackedKeys + " keys tracked" + (adv.sample < 1 ? ", " + adv.sample * 100 + "% of keys sampled" : "") + "."
    : "Start the extension with advisor: true to see which uncached reads are worth caching.";
}

function setStatus(text, error) {
  var status = document.getElementById("status");
  status.textContent = text;
  status.className = error ? "error" : "";
}

function render(s) {
  var rate = null;
  if (previous !== null && s.at > previous.at) {
    var t = s.totals, p = previous.totals;
    var total = function (x) { return x.l1Hits + x.l2Hits + x.scopeHits + x.misses + x.bypassed + x.notAdmitted; };
    rate = (total(t) - total(p)) / ((s.at - previous.at) / 1000);
  }
  record(s);
  previous = s;
  renderCards(s, rate);
  renderChart();
  renderTables(s);
}

function poll() {
  fetch(CONFIG.jsonPath, { cache: "no-store", credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (snapshot) {
      render(snapshot);
      setStatus("updated " + time(snapshot.at) + ", every " + CONFIG.refreshMs / 1000 + " s", false);
    })
    .catch(function (error) { setStatus("could not read " + CONFIG.jsonPath + ": " + error.message, true); })
    .then(function () { setTimeout(poll, CONFIG.refreshMs); });
}
poll();
})();
`;
