/**
 * The JSON the inspector page polls: the cache's metrics, automatic
 * admission's decisions and the advisor's table, with the per-shape counters
 * also summed per model (what the page charts). Shapes are structures or
 * short hashes and keys are hashed: no argument value, no raw key.
 */
import type { CacheHandle } from "../handle/cache-handle.js";
import type { AdvisorReport } from "../advisor/advisor-report.js";
import type { FullMetricsSnapshot } from "../observe/metrics.js";
import type { AnsweredBy } from "../observe/metrics-snapshot.js";
import type { ShapeAdmission } from "../read/admission.js";

/** The most shapes listed (the busiest first); the per-model sums count every one. */
const MAX_SHAPES_LISTED = 50;

/** What the inspector reads of `prisma.$cache`. */
export type InspectedHandle = Pick<CacheHandle, "metrics" | "admission" | "advisor">;

/** Reads of one model, summed over its shapes. */
export interface ModelReads {
  readonly model: string;
  /** Reads answered per tier (`db`: a cached read's miss; `bypass`: not cached). */
  readonly reads: Readonly<Record<AnsweredBy, number>>;
  /** Hits served stale while a refresh ran. */
  readonly stale: number;
}

/** What `<mount>/snapshot.json` answers. */
export interface InspectorSnapshot extends Omit<FullMetricsSnapshot, "shapes"> {
  /** Per model, summed over its shapes (empty without labelled metrics, `metrics: true`). */
  readonly models: readonly ModelReads[];
  /** The busiest shapes (at most 50), by reads. */
  readonly shapes: FullMetricsSnapshot["shapes"];
  /** Automatic admission's decisions (empty unless `admission: "auto"`). */
  readonly admission: readonly ShapeAdmission[];
  /** The caching advisor's table (`enabled: false` unless `advisor: true`). */
  readonly advisor: AdvisorReport;
}

/** Reads the cache once, for the page. */
export function inspectorSnapshot(cache: InspectedHandle): InspectorSnapshot {
  const metrics = cache.metrics();
  const byModel = new Map<string, { reads: Record<AnsweredBy, number>; stale: number }>();
  for (const shape of metrics.shapes) {
    let model = byModel.get(shape.model);
    if (model === undefined) {
      model = { reads: { scope: 0, l1: 0, l2: 0, db: 0, bypass: 0 }, stale: 0 };
      byModel.set(shape.model, model);
    }
    for (const tier of Object.keys(model.reads) as AnsweredBy[]) model.reads[tier] += shape.reads[tier];
    model.stale += shape.stale;
  }
  const total = (shape: FullMetricsSnapshot["shapes"][number]) =>
    Object.values(shape.reads).reduce((sum, reads) => sum + reads, 0);
  return {
    ...metrics,
    models: [...byModel].map(([model, counts]) => ({ model, ...counts })).sort((a, b) => (a.model < b.model ? -1 : 1)),
    shapes: [...metrics.shapes].sort((a, b) => total(b) - total(a)).slice(0, MAX_SHAPES_LISTED),
    admission: cache.admission(),
    advisor: cache.advisor(),
  };
}
