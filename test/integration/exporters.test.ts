/**
 * The exporters against real traffic: `prisma-query-cache/prometheus` on a
 * real prom-client Registry (scraped as text), `prisma-query-cache/otel`
 * through a real OpenTelemetry SDK MeterProvider (read back with a
 * MetricReader), and the diagnostics channels. Real Postgres and Redis
 * through a real Prisma client.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { MeterProvider, MetricReader, type HistogramMetricData, type MetricData } from "@opentelemetry/sdk-metrics";
import { Registry } from "prom-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { registerOpenTelemetry } from "../../src/exporters/otel.js";
import { registerPrometheus } from "../../src/exporters/prometheus.js";
import { CHANNELS, type ReadMessage } from "../../src/index.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The value of one sample line of a Prometheus text scrape, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describeWith(["postgres", "redis"], "exporters: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it("prometheus: the scrape names every family, and its values move with real traffic", async () => {
    const w = await env.world("exporters-prom");
    const { prisma } = await env.client({ metrics: true });
    const registry = new Registry();
    const exporter = registerPrometheus(prisma, { registry });
    const read = () => prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });

    await read();
    const before = await registry.metrics();
    const labels = { model: "User", operation: "findUnique" };
    expect(sample(before, "prisma_cache_reads_total", { ...labels, tier: "db" })).toBe(1);
    expect(sample(before, "prisma_cache_reads_total", { ...labels, tier: "l1" })).toBe(0);
    expect(sample(before, "prisma_cache_requests_total", { outcome: "miss" })).toBe(1);
    expect(sample(before, "prisma_cache_db_duration_seconds_count", labels)).toBe(1);
    expect(sample(before, "prisma_cache_db_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(1);
    expect(before).toContain("# TYPE prisma_cache_db_duration_seconds histogram");
    expect(before).toContain("# TYPE prisma_cache_l1_entries gauge");

    for (let i = 0; i < 5; i++) await read();
    await prisma.user.update({ where: { id: w.users.alice }, data: { name: "alice 2" }, select: { id: true } });
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the snapshot reuse of one scrape
    const after = await registry.metrics();
    expect(sample(after, "prisma_cache_reads_total", { ...labels, tier: "l1" })).toBe(5);
    expect(sample(after, "prisma_cache_requests_total", { outcome: "l1" })).toBe(5);
    expect(sample(after, "prisma_cache_invalidations_total", { cause: "write" })).toBeGreaterThan(0);
    expect(sample(after, "prisma_cache_l1_entries", {})).toBe(prisma.$cache.stats().l1Entries);
    // Buckets are cumulative, up to +Inf.
    const buckets = after
      .split("\n")
      .filter((line) => line.startsWith("prisma_cache_db_duration_seconds_bucket{"))
      .map((line) => Number(line.slice(line.lastIndexOf(" ") + 1)));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));

    exporter.unregister();
    expect(await registry.metrics()).not.toContain("prisma_cache_");
  });

  it("otel: observable counters and gauges read the snapshot, and latency histograms fill from real reads", async () => {
    const w = await env.world("exporters-otel");
    const { prisma } = await env.client({ metrics: true });
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const exporter = registerOpenTelemetry(prisma, { meter: provider.getMeter("test") });
    try {
      const read = () => prisma.user.findUnique({ where: { id: w.users.bob }, select: { name: true }, cache: true });
      for (let i = 0; i < 200; i++) await read();
      await prisma.$cache.settled();
      prisma.$cache.clearLocal();
      await read(); // an l2 hit: timed every time

      const { resourceMetrics } = await reader.collect();
      const all: MetricData[] = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
      const named = (name: string) => all.find((metric) => metric.descriptor.name === name);
      const reads = named("prisma_cache.reads");
      const point = (tier: string) =>
        reads?.dataPoints.find(
          (p) => p.attributes.tier === tier && p.attributes.model === "User" && p.attributes.operation === "findUnique",
        )?.value;
      expect(point("db")).toBe(1);
      expect(point("l1")).toBe(199);
      expect(point("l2")).toBe(1);
      expect(named("prisma_cache.l1")?.descriptor.unit).toBe("By");

      const hits = named("prisma_cache.hit_duration") as HistogramMetricData | undefined;
      const byTier = (tier: string) => hits?.dataPoints.find((p) => p.attributes.tier === tier)?.value.count ?? 0;
      expect(byTier("l2")).toBe(1);
      // In-process hits are timed on a sample (about 1 in 16).
      expect(byTier("l1")).toBeGreaterThan(0);
      expect(byTier("l1")).toBeLessThan(60);
      const loads = named("prisma_cache.db_duration") as HistogramMetricData | undefined;
      expect(loads?.dataPoints[0]?.value.count).toBe(1);
      expect(loads?.dataPoints[0]?.attributes).toMatchObject({ model: "User", operation: "findUnique" });
    } finally {
      exporter.stop();
      await provider.shutdown();
    }
  });

  it("diagnostics channels: subscribers get each outcome and each invalidation; nothing is published without them", async () => {
    const w = await env.world("exporters-channels");
    const { prisma } = await env.client();
    const reads: ReadMessage[] = [];
    const invalidations: unknown[] = [];
    const onRead = (message: unknown) => reads.push(message as ReadMessage);
    const onInvalidate = (message: unknown) => invalidations.push(message);
    const read = () => prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    await read(); // before subscribing: not seen
    subscribe(CHANNELS.read, onRead);
    subscribe(CHANNELS.invalidate, onInvalidate);
    try {
      await read();
      await prisma.user.findMany({ where: { tenantId: w.tenantId }, select: { id: true } });
      await prisma.$cache.invalidate({ tags: ["exporters"] });
    } finally {
      unsubscribe(CHANNELS.read, onRead);
      unsubscribe(CHANNELS.invalidate, onInvalidate);
    }
    await read();
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatchObject({ model: "User", operation: "findUnique", answeredBy: "l1", stale: false });
    expect(reads[0]?.shape).toMatch(/^[\w-]{10}$/);
    expect(reads[1]).toMatchObject({ model: "User", operation: "findMany", answeredBy: "bypass", shape: undefined });
    expect(invalidations).toEqual([{ cause: "api", tags: ["exporters"] }]);
  });
});
