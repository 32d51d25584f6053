/**
 * The per-query `cache` option, in one place: whether a read is cached and
 * with which expiry (global defaults -> model settings -> the query's own
 * `cache` option), and the arguments without it, as Prisma must see them.
 */
import { CacheError, withCode } from "../errors.js";
import {
  layerExpiry,
  modelSettings,
  QUERY_OPTION_KEYS,
  rejectUnknownKeys,
  type ResolvedExpiry,
  type ResolvedModel,
  type ResolvedOptions,
} from "../options/resolve.js";
import type { QueryCacheSettings } from "../options/types.js";
import { validateTags } from "../tags/tag-names.js";

/** How one read is cached. */
export interface ReadPlan {
  readonly expiry: ResolvedExpiry;
  /** Custom tags from `cache: { tags }`, validated. */
  readonly customTags: readonly string[];
  /** A read that did not opt into caching, run inside a request scope: the scope may answer it, the tiers never. */
  readonly scopeOnly?: true;
}

const NO_TAGS: readonly string[] = [];

/** The plan of `cache: true` per model settings: the common case allocates nothing. */
const plainPlans = new WeakMap<ResolvedModel, ReadPlan>();

function plainPlan(settings: ResolvedModel): ReadPlan {
  let plan = plainPlans.get(settings);
  if (plan === undefined) {
    plan = { expiry: settings, customTags: NO_TAGS };
    plainPlans.set(settings, plan);
  }
  return plan;
}

/** The plan of a read, or `undefined` when it bypasses the cache. */
export function planRead(options: ResolvedOptions, model: string, cacheOption: unknown): ReadPlan | undefined {
  const settings = modelSettings(options, model);
  if (!settings.enabled) return undefined;
  if (cacheOption === undefined) return settings.cacheByDefault ? plainPlan(settings) : undefined;
  if (cacheOption === true) return plainPlan(settings);
  if (cacheOption === false) return undefined;
  return layerQueryOption(settings, cacheOption);
}

function layerQueryOption(settings: ResolvedModel, cacheOption: unknown): ReadPlan {
  if (typeof cacheOption !== "object" || cacheOption === null || Array.isArray(cacheOption)) {
    throw new CacheError(
      "E_INVALID_QUERY_OPTION",
      `\`cache\` is ${JSON.stringify(cacheOption)}. Use true, false, or an object such as { ttl: 30 }.`,
    );
  }
  rejectUnknownKeys(cacheOption, QUERY_OPTION_KEYS, "cache", "query");
  const { tags, staleIfInvalidated, ...expiry } = cacheOption as QueryCacheSettings;
  let layered: ResolvedExpiry;
  try {
    layered = layerExpiry(settings, expiry, "cache");
  } catch (error) {
    // The checks of the extension's options, applied to one query: the query's option is at fault.
    throw error instanceof CacheError ? withCode(error, "E_INVALID_QUERY_OPTION") : error;
  }
  if (staleIfInvalidated !== undefined) {
    if (typeof staleIfInvalidated !== "boolean")
      throw new CacheError(
        "E_INVALID_QUERY_OPTION",
        `\`cache.staleIfInvalidated\` is ${JSON.stringify(staleIfInvalidated)}. Use true or false.`,
      );
    layered = { ...layered, staleIfInvalidated };
  }
  return { expiry: layered, customTags: tags === undefined ? NO_TAGS : validateTags(tags, "cache.tags") };
}

/** The arguments as Prisma must see them: without this extension's `cache` option. */
export function withoutCacheOption(args: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (args === undefined || !("cache" in args)) return args;
  const { cache: _cache, ...rest } = args;
  return rest;
}
