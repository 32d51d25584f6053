/**
 * prisma-query-cache: a Prisma Client extension that serves opted-in read
 * queries from an in-process LRU and a shared Redis tier.
 *
 * ```ts
 * const prisma = new PrismaClient({ adapter }).$extends(cacheExtension({ redis, defaults: { ttl: 60 } }));
 * await prisma.user.findUnique({ where: { id }, cache: true });
 * ```
 */
export { cacheExtension, type CacheArgs, type WriteCacheArgs } from "./extension.js";
export type { CacheHandle, InvalidationTarget } from "./handle/cache-handle.js";
export type { CacheReadiness } from "./handle/readiness.js";
export type { GetOrSetOptions } from "./read/computation.js";
export type { ShapeAdmission } from "./read/admission.js";
export type { Advice, AdvisorReport, AdvisorRow } from "./advisor/advisor-report.js";
export type { ScopeMiddleware } from "./read/request-scope.js";
export { CacheError, errorCodes, type CacheErrorCode } from "./errors.js";
export type {
  AdmissionOptions,
  AdvisorOptions,
  BreakerOptions,
  CacheExtensionOptions,
  Clock,
  ContextValue,
  ExpiryOptions,
  L1Options,
  ModelCacheOptions,
  QueryCacheOption,
  QueryCacheSettings,
  WriteCacheSettings,
} from "./options/types.js";
export type { RedisClientLike } from "./redis/client.js";
export type { Duration } from "./options/duration.js";
export type { ByteSize } from "./options/size.js";
export type { CacheStats } from "./stats.js";
export type {
  AnsweredBy,
  HotEntry,
  InvalidationRecord,
  LatencySummary,
  MetricsSnapshot,
  ShapeMetrics,
} from "./observe/metrics-snapshot.js";
export type { FullMetricsSnapshot, InvalidationCause, LatencyTier } from "./observe/metrics.js";
export type { HistogramSummary } from "./observe/histogram.js";
export type { ReadInfo } from "./observe/read-info.js";
export type { CacheEvent, CacheLogger } from "./observe/log-events.js";
export type { MetricsOptions } from "./options/observe-options.js";
export { CHANNELS, type InvalidateMessage, type LoadMessage, type ReadMessage } from "./observe/channels.js";
export { KEY_FORMAT_VERSION } from "./keys/query-key.js";
