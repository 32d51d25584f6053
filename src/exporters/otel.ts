/**
 * `prisma-query-cache/otel`: the cache's metrics through the OpenTelemetry
 * metrics API (`@opentelemetry/api` only: whichever SDK and exporter the
 * application set up receives them; none is forced on it).
 *
 * - counters and gauges are observable instruments, read from one
 *   `prisma.$cache.metrics()` per collection (a batch callback);
 * - latency histograms are recorded as reads happen, from the diagnostics
 *   channels (`prisma-query-cache:read` and `:load`), which cost nothing
 *   until this subscribes. Those channels are process-wide: with several
 *   extended clients in one process, the histograms hold all of them.
 *
 * ```ts
 * import { registerOpenTelemetry } from "prisma-query-cache/otel";
 * const exporter = registerOpenTelemetry(prisma); // the global MeterProvider's meter, or { meter }
 * ```
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { metrics, type Attributes, type Histogram, type Meter, type Observable } from "@opentelemetry/api";
import { CHANNELS, type LoadMessage, type ReadMessage } from "../observe/channels.js";
import { LATENCY_BOUNDS_MS } from "../observe/histogram.js";
import type { FullMetricsSnapshot } from "../observe/metrics.js";
import { SCALAR_FAMILIES } from "./metric-families.js";

/** What the exporter reads: any client extended with the cache. */
export interface MetricsSource {
  readonly $cache: { metrics(): FullMetricsSnapshot };
}

/** Options of {@link registerOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** The meter to create instruments on. @default metrics.getMeter("prisma-query-cache") */
  meter?: Meter;
  /**
   * Prefix of every instrument name (`prisma_cache.reads`: a Prometheus exporter names it
   * `prisma_cache_reads_total`, as `prisma-query-cache/prometheus` does).
   * @default "prisma_cache."
   */
  prefix?: string;
}

/** The instrument name of a family: counters lose `_total`, which exporters add back. */
function instrumentName(prefix: string, name: string, unit: string): string {
  let base = name.replace(/_total$/, "");
  if (unit === "By") base = base.replace(/_bytes$/, "");
  return prefix + base;
}

/**
 * Creates the instruments and starts observing. Returns `stop()`, which
 * removes the batch callback and unsubscribes from the channels.
 */
export function registerOpenTelemetry(prisma: MetricsSource, options: OpenTelemetryOptions = {}): { stop(): void } {
  const meter = options.meter ?? metrics.getMeter("prisma-query-cache");
  const prefix = options.prefix ?? "prisma_cache.";
  const observables = SCALAR_FAMILIES.map((family) => {
    const name = instrumentName(prefix, family.name, family.unit);
    const settings = { description: family.help, unit: family.unit };
    const instrument: Observable =
      family.type === "counter"
        ? meter.createObservableCounter(name, settings)
        : meter.createObservableGauge(name, settings);
    return { family, instrument };
  });
  const callback = (result: {
    observe(observable: Observable, value: number, attributes?: Attributes): void;
  }): void => {
    const snapshot = prisma.$cache.metrics();
    for (const { family, instrument } of observables)
      for (const sample of family.samples(snapshot)) result.observe(instrument, sample.value, sample.labels);
  };
  meter.addBatchObservableCallback(
    callback,
    observables.map((entry) => entry.instrument),
  );

  const boundaries = LATENCY_BOUNDS_MS.map((ms) => ms / 1000);
  const histogram = (name: string, description: string): Histogram =>
    meter.createHistogram(prefix + name, { description, unit: "s", advice: { explicitBucketBoundaries: boundaries } });
  const hits = histogram(
    "hit_duration",
    "Hit latency inside the extension, by tier (in-process hits sampled, about 1 in 16).",
  );
  const loads = histogram("db_duration", "Database time of cache misses (and refreshes), per shape.");
  const onRead = (message: unknown): void => {
    const read = message as ReadMessage;
    if (read.ms !== undefined) hits.record(read.ms / 1000, { tier: read.answeredBy });
  };
  const onLoad = (message: unknown): void => {
    const load = message as LoadMessage;
    loads.record(load.ms / 1000, { model: load.model, operation: load.operation, shape: load.shape });
  };
  subscribe(CHANNELS.read, onRead);
  subscribe(CHANNELS.load, onLoad);
  return {
    stop: () => {
      meter.removeBatchObservableCallback(
        callback,
        observables.map((entry) => entry.instrument),
      );
      unsubscribe(CHANNELS.read, onRead);
      unsubscribe(CHANNELS.load, onLoad);
    },
  };
}
