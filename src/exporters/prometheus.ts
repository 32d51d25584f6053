/**
 * `prisma-query-cache/prometheus`: the cache's metrics as collectors on a
 * `prom-client` Registry. Each scrape reads `prisma.$cache.metrics()` once
 * (shared by every family of that scrape); nothing is counted twice and
 * nothing runs between scrapes. prom-client is only needed as the registry
 * you pass: this module imports nothing of it at run time.
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { registerPrometheus } from "prisma-query-cache/prometheus";
 * const registry = new Registry();
 * registerPrometheus(prisma, { registry });
 * app.get("/metrics", async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 * ```
 */
import type { Registry } from "prom-client";
import type { FullMetricsSnapshot } from "../observe/metrics.js";
import {
  exported,
  HISTOGRAM_FAMILIES,
  SCALAR_FAMILIES,
  type HistogramFamily,
  type Labels,
  type ScalarFamily,
} from "./metric-families.js";

/** What the exporter reads: any client extended with the cache. */
export interface MetricsSource {
  readonly $cache: { metrics(): FullMetricsSnapshot };
}

/** Options of {@link registerPrometheus}. */
export interface PrometheusOptions {
  /** The registry to register on (yours: `new Registry()`, or prom-client's global `register`). */
  registry: Registry;
  /**
   * Prefix of every metric name. Give each extended client its own when one process has several.
   * @default "prisma_cache_"
   */
  prefix?: string;
}

/** One value line of a metric, as prom-client's registry formats it. */
interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A scrape reads the snapshot once for all families: reused within this many ms. */
const SNAPSHOT_REUSE_MS = 250;

/**
 * Registers the cache's metric families on `options.registry`. Returns
 * `unregister()`, which removes them. Throws (prom-client's error) when a name is
 * already registered: pass another `prefix`.
 */
export function registerPrometheus(prisma: MetricsSource, options: PrometheusOptions): { unregister(): void } {
  const { registry } = options;
  const prefix = options.prefix ?? "prisma_cache_";
  let last: { at: number; snapshot: FullMetricsSnapshot } | undefined;
  const read = (): FullMetricsSnapshot => {
    const now = performance.now();
    if (last === undefined || now - last.at > SNAPSHOT_REUSE_MS) last = { at: now, snapshot: prisma.$cache.metrics() };
    return last.snapshot;
  };
  const names: string[] = [];
  for (const family of [...SCALAR_FAMILIES, ...HISTOGRAM_FAMILIES]) {
    const name = prefix + family.name;
    const values =
      family.type === "histogram" ? () => histogramValues(name, family, read()) : () => scalarValues(family, read());
    // The shape prom-client's registry reads from a metric: name, help, type, aggregator and `get()`.
    const metric = {
      name,
      help: family.help,
      type: family.type,
      aggregator: "sum" as const,
      get: async () => ({ name, help: family.help, type: family.type, aggregator: "sum" as const, values: values() }),
      reset: () => undefined,
    };
    registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
    names.push(name);
  }
  return {
    unregister: () => {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

function scalarValues(family: ScalarFamily, snapshot: FullMetricsSnapshot): Value[] {
  return family.samples(snapshot);
}

/** Buckets (cumulative, `le` in the exported unit), `+Inf`, `_sum` and `_count` of each series. */
function histogramValues(name: string, family: HistogramFamily, snapshot: FullMetricsSnapshot): Value[] {
  const values: Value[] = [];
  for (const { labels, histogram } of family.samples(snapshot)) {
    // A series with nothing recorded (a shape never missed, say) is left out: it would only add empty buckets.
    if (histogram.count === 0) continue;
    for (const { le, count } of histogram.buckets)
      values.push({
        labels: { ...labels, le: String(exported(le, family.unit)) },
        value: count,
        metricName: `${name}_bucket`,
      });
    values.push({ labels: { ...labels, le: "+Inf" }, value: histogram.count, metricName: `${name}_bucket` });
    values.push({ labels, value: exported(histogram.sum, family.unit), metricName: `${name}_sum` });
    values.push({ labels, value: histogram.count, metricName: `${name}_count` });
  }
  return values;
}
