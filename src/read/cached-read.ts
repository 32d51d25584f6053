/**
 * The read path of one model method call, in order:
 *   1. bypass: no opt-in, a disabled model, or inside a transaction -> the original method;
 *   2. otherwise a lazy PrismaPromise that, when awaited, builds the key
 *      (model, operation, arguments, context) and reads through the tiers.
 */
import { CacheError } from "../errors.js";
import type { Prisma } from "@prisma/client/extension";
import { queryKey } from "../keys/query-key.js";
import type { ResolvedOptions } from "../options/resolve.js";
import { isTransactionClient } from "../prisma/internals.js";
import type { Counters } from "../stats.js";
import type { CacheStack } from "./cache-stack.js";
import { cachedPrismaPromise } from "./prisma-promise.js";
import { planRead } from "./query-plan.js";
import type { ReadOperation } from "./read-operations.js";

/** What a model extension method sees of Prisma through `getExtensionContext(this)`. */
export interface ModelContext {
  readonly $name: string;
  readonly $parent: Record<string, Record<string, (args?: unknown) => Prisma.PrismaPromise<unknown>>>;
}

/** Per-instance state the read path needs. */
export interface ReadPathState {
  readonly options: ResolvedOptions;
  readonly stack: CacheStack;
  readonly counters: Counters;
  /** Redis key-name namespace: prefix, format version and data-model hash. */
  readonly namespace: string;
}

/** Runs one read method call: from the cache when it opted in, from the original method otherwise. */
export function cachedRead(state: ReadPathState, context: ModelContext, operation: ReadOperation, args: Record<string, unknown> | undefined): Prisma.PrismaPromise<unknown> {
  const delegate = context.$parent[modelProperty(context.$name)] as Record<string, (args?: unknown) => Prisma.PrismaPromise<unknown>>;
  const original = delegate[operation] as (args?: unknown) => Prisma.PrismaPromise<unknown>;
  const cacheOption = args?.cache;
  if (cacheOption === undefined && state.options.models.get(context.$name)?.cacheByDefault !== true) {
    // The common uncached call: hand the arguments through untouched.
    state.counters.bypassed++;
    return original.call(delegate, args);
  }
  const queryArgs = withoutCacheOption(args);
  if (isTransactionClient(context.$parent)) {
    state.counters.bypassed++;
    return original.call(delegate, queryArgs);
  }
  let expiry;
  try {
    expiry = planRead(state.options, context.$name, cacheOption);
  } catch (error) {
    // Prisma reports invalid arguments when the promise is awaited, not at the call; so do we.
    return cachedPrismaPromise(() => Promise.reject(error as Error), () => original.call(delegate, queryArgs));
  }
  if (expiry === undefined) {
    state.counters.bypassed++;
    return original.call(delegate, queryArgs);
  }
  const load = () => original.call(delegate, queryArgs) as Promise<unknown>;
  return cachedPrismaPromise(() => {
    const key = buildKey(state, context.$name, operation, queryArgs);
    return key === undefined ? load() : state.stack.read(key, expiry, load);
  }, () => original.call(delegate, queryArgs));
}

/** The key of a read, or undefined (reported) when it cannot be keyed safely: the read then goes to the database. */
function buildKey(state: ReadPathState, model: string, operation: ReadOperation, args: Record<string, unknown> | undefined) {
  let dimensions: Record<string, unknown> | undefined;
  if (state.options.context !== undefined) {
    try {
      dimensions = state.options.context();
    } catch (error) {
      state.stack.report(new CacheError("E_CONTEXT", `the \`context\` function threw; ${model}.${operation} was read from the database, uncached.`, error));
      return undefined;
    }
    const missing = missingDimension(dimensions);
    if (missing !== undefined) {
      state.stack.report(new CacheError("E_CONTEXT", `context dimension \`${missing}\` is undefined; ${model}.${operation} was read from the database, uncached, rather than under a key shared across contexts. Make \`context\` return a value (or null) for every dimension.`));
      return undefined;
    }
  }
  try {
    return queryKey(state.namespace, model, operation, args, dimensions);
  } catch (error) {
    state.stack.report(error as CacheError);
    return undefined;
  }
}

function missingDimension(dimensions: Record<string, unknown> | undefined): string | undefined {
  if (typeof dimensions !== "object" || dimensions === null) return "(the context object itself)";
  for (const key in dimensions) if (dimensions[key] === undefined) return key;
  return undefined;
}

function withoutCacheOption(args: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (args === undefined || !("cache" in args)) return args;
  const { cache: _cache, ...rest } = args;
  return rest;
}

const propertyNames = new Map<string, string>();

/** `User` -> `user`: the client property of a model, as Prisma derives it. */
function modelProperty(model: string): string {
  let property = propertyNames.get(model);
  if (property === undefined) {
    property = model.charAt(0).toLowerCase() + model.slice(1);
    propertyNames.set(model, property);
  }
  return property;
}
