/**
 * The exported metric families, named once for every exporter: a family is
 * a name, a help text, a type, and how to read its samples from one
 * snapshot. Prometheus and OpenTelemetry both render this list, so a
 * dashboard built on one names the same series as on the other
 * (docs/observability.md lists them).
 */
import type { HistogramSummary } from "../observe/histogram.js";
import type { FullMetricsSnapshot } from "../observe/metrics.js";

/** Labels of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a counter or a gauge. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** One histogram's series. */
export interface HistogramSample {
  readonly labels: Labels;
  readonly histogram: HistogramSummary;
}

/** A counter or gauge family. */
export interface ScalarFamily {
  /** Without the exporter's prefix (`reads_total`). */
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  /** Unit, for OpenTelemetry (`1`, `By`). */
  readonly unit: string;
  samples(snapshot: FullMetricsSnapshot): Sample[];
}

/** A histogram family (values in `unit`: milliseconds are exported in seconds). */
export interface HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  /** What the histogram's values are: `ms` (exported as seconds) or `bytes`. */
  readonly unit: "ms" | "bytes";
  samples(snapshot: FullMetricsSnapshot): HistogramSample[];
}

const shapeLabels = (shape: { model: string; operation: string; shape: string }): Labels => ({
  model: shape.model,
  operation: shape.operation,
  shape: shape.shape,
});

/** A per-shape counter. */
function perShape(
  name: string,
  help: string,
  value: (shape: FullMetricsSnapshot["shapes"][number]) => number,
): ScalarFamily {
  return {
    name,
    help,
    type: "counter",
    unit: "1",
    samples: (snapshot) => snapshot.shapes.map((shape) => ({ labels: shapeLabels(shape), value: value(shape) })),
  };
}

/** A counter with one label over a record of counts. */
function byLabel(name: string, help: string, label: string, record: (s: FullMetricsSnapshot) => object): ScalarFamily {
  return {
    name,
    help,
    type: "counter",
    unit: "1",
    samples: (snapshot) =>
      Object.entries(record(snapshot) as Record<string, number>).map(([key, value]) => ({
        labels: { [label]: key },
        value,
      })),
  };
}

const single = (
  name: string,
  help: string,
  type: "counter" | "gauge",
  value: (s: FullMetricsSnapshot) => number,
  unit = "1",
): ScalarFamily => ({ name, help, type, unit, samples: (snapshot) => [{ labels: {}, value: value(snapshot) }] });

/** The numeric counters of `stats()`. */
type NumericTotal = {
  [K in keyof FullMetricsSnapshot["totals"]]: FullMetricsSnapshot["totals"][K] extends number ? K : never;
}[keyof FullMetricsSnapshot["totals"]];

/** Global counters of `stats()` exported as they are: [name, help, counter]. */
const GLOBAL_COUNTERS: readonly (readonly [string, string, NumericTotal])[] = [
  ["stale_hits_total", "Hits served stale (always on).", "staleHits"],
  ["coalesced_reads_total", "Misses that joined a load in progress (always on).", "coalesced"],
  ["lock_waits_all_total", "Misses that waited on another process's lock (always on).", "lockWaits"],
  [
    "first_reads_unshared_total",
    "First reads of a key whose entry stayed in-process, nobody waiting for it (admission auto).",
    "firstReadsUnshared",
  ],
  ["refreshes_all_total", "Background refreshes started (always on).", "refreshes"],
  ["refresh_failures_all_total", "Background refreshes failed (always on).", "refreshFailures"],
  ["early_loads_total", "Database reads started alongside a Redis lookup that then hit.", "earlyLoads"],
  ["breaker_opens_total", "Times the circuit breaker opened.", "breakerOpens"],
  ["breaker_skips_total", "Reads that skipped Redis because the breaker was open.", "breakerSkips"],
];

/** Every counter and gauge. */
export const SCALAR_FAMILIES: readonly ScalarFamily[] = [
  {
    name: "reads_total",
    help: "Reads by model, operation, query-shape group and the tier that answered (scope, l1, l2, db, bypass). Needs metrics: true.",
    type: "counter",
    unit: "1",
    samples: (snapshot) =>
      snapshot.shapes.flatMap((shape) =>
        Object.entries(shape.reads).map(([tier, value]) => ({ labels: { ...shapeLabels(shape), tier }, value })),
      ),
  },
  perShape("stale_total", "Hits served stale while one refresh ran, per shape.", (shape) => shape.stale),
  perShape(
    "not_admitted_total",
    "Reads sent to the database because automatic admission took the shape out.",
    (shape) => shape.notAdmitted,
  ),
  perShape(
    "coalesced_total",
    "Misses that joined a database read of the same key already running in this process.",
    (shape) => shape.coalesced,
  ),
  perShape(
    "lock_waits_total",
    "Misses that waited for another process holding the key's single-flight lock.",
    (shape) => shape.lockWaits,
  ),
  perShape("refreshes_total", "Background refreshes started, per shape.", (shape) => shape.refreshes),
  perShape("refresh_failures_total", "Background refreshes that failed, per shape.", (shape) => shape.refreshFailures),
  {
    name: "requests_total",
    help: "Every read by outcome (always on): scope, l1, l2, miss, bypass, not_admitted.",
    type: "counter",
    unit: "1",
    samples: ({ totals }) =>
      Object.entries({
        scope: totals.scopeHits,
        l1: totals.l1Hits,
        l2: totals.l2Hits,
        miss: totals.misses,
        bypass: totals.bypassed,
        not_admitted: totals.notAdmitted,
      }).map(([outcome, value]) => ({ labels: { outcome }, value })),
  },
  ...GLOBAL_COUNTERS.map(([name, help, counter]) => single(name, help, "counter", (s) => s.totals[counter])),
  byLabel("errors_total", "Cache failures absorbed on the query path, by error code.", "code", (s) => s.errors),
  byLabel(
    "tier_errors_total",
    "Absorbed failures by the tier they came from (l1, l2, db, other).",
    "tier",
    (s) => s.errorsByTier,
  ),
  single("timeouts_total", "Absorbed failures that were Redis timeouts.", "counter", (s) => s.timeouts),
  byLabel(
    "invalidations_total",
    "Tags invalidated, by cause (write, api, bus, event).",
    "cause",
    (s) => s.invalidations,
  ),
  byLabel(
    "l1_evictions_total",
    "In-process entries removed, by lru-cache reason (evict, expire, set, delete).",
    "reason",
    (s) => s.evictions,
  ),
  single("l1_entries", "Entries in the in-process tier now.", "gauge", (s) => s.totals.l1Entries),
  single("l1_bytes", "Estimated bytes held by the in-process tier now.", "gauge", (s) => s.totals.l1Bytes, "By"),
  {
    name: "breaker_state",
    help: "The circuit breaker's state now: 1 for the current state, 0 for the others.",
    type: "gauge",
    unit: "1",
    samples: ({ totals }) =>
      (["closed", "open", "half-open", "off"] as const).map((state) => ({
        labels: { state },
        value: totals.breaker === state ? 1 : 0,
      })),
  },
];

/** Every histogram. */
export const HISTOGRAM_FAMILIES: readonly HistogramFamily[] = [
  {
    name: "hit_duration_seconds",
    help: "Hit latency inside the extension, by tier (in-process hits sampled, about 1 in 16). Needs metrics: true.",
    type: "histogram",
    unit: "ms",
    samples: ({ latency }) =>
      (["scope", "l1", "l2"] as const).map((tier) => ({ labels: { tier }, histogram: latency[tier] })),
  },
  {
    name: "db_duration_seconds",
    help: "Database time of cache misses (and refreshes), per shape. Needs metrics: true.",
    type: "histogram",
    unit: "ms",
    samples: (snapshot) => snapshot.shapes.map((shape) => ({ labels: shapeLabels(shape), histogram: shape.missMs })),
  },
  {
    name: "entry_size_bytes",
    help: "Estimated size of stored entries, per shape. Needs metrics: true.",
    type: "histogram",
    unit: "bytes",
    samples: (snapshot) =>
      snapshot.shapes.map((shape) => ({ labels: shapeLabels(shape), histogram: shape.entryBytes })),
  },
];

/** A histogram value in its exported unit: seconds for latencies, bytes as they are. */
export function exported(value: number, unit: HistogramFamily["unit"]): number {
  return unit === "ms" ? value / 1000 : value;
}
