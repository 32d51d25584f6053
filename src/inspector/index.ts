/**
 * `prisma-query-cache/inspector`: a live page of what the cache does, served
 * by a `node:http` handler (docs/inspector.md).
 *
 * ```ts
 * import { createCacheInspector } from "prisma-query-cache/inspector";
 * app.use("/ops/cache", requireAdmin, createCacheInspector(prisma));
 * ```
 */
export { createCacheInspector, type CacheInspectorHandler, type CacheInspectorOptions } from "./handler.js";
export type { InspectorSnapshot, ModelReads, InspectedHandle } from "./snapshot.js";
