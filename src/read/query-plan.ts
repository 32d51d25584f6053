/**
 * Decides, for one read, whether it is cached and with which expiry:
 * global defaults -> model settings -> the query's own `cache` option.
 */
import { CacheError } from "../errors.js";
import { layerExpiry, QUERY_OPTION_KEYS, rejectUnknownKeys, type ResolvedExpiry, type ResolvedModel, type ResolvedOptions } from "../options/resolve.js";
import type { QueryCacheSettings } from "../options/types.js";

/** The settings a read runs with, or `undefined` when it bypasses the cache. */
export function planRead(options: ResolvedOptions, model: string, cacheOption: unknown): ResolvedExpiry | undefined {
  const settings: ResolvedModel = options.models.get(model) ?? options.defaults;
  if (!settings.enabled) return undefined;
  if (cacheOption === undefined) return settings.cacheByDefault ? settings : undefined;
  if (cacheOption === true) return settings;
  if (cacheOption === false) return undefined;
  return layerQueryOption(settings, cacheOption);
}

function layerQueryOption(settings: ResolvedModel, cacheOption: unknown): ResolvedExpiry {
  if (typeof cacheOption !== "object" || cacheOption === null || Array.isArray(cacheOption)) {
    throw new CacheError("E_INVALID_QUERY_OPTION", `\`cache\` is ${JSON.stringify(cacheOption)}. Use true, false, or an object such as { ttl: 30 }.`);
  }
  rejectUnknownKeys(cacheOption, QUERY_OPTION_KEYS, "cache", "query");
  try {
    return layerExpiry(settings, cacheOption as QueryCacheSettings, "cache");
  } catch (error) {
    throw new CacheError("E_INVALID_QUERY_OPTION", (error as CacheError).message.replace(/^prisma-query-cache \[\w+\]: /, ""));
  }
}
