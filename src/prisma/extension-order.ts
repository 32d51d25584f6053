/**
 * Extensions applied after the cache. The cache's read and write methods are
 * a `model` component, which runs before Prisma's request pipeline and
 * calls the client *below* it; Prisma gives a model method no way to call
 * the client above it. So `query` hooks on models and `result` fields of an
 * extension applied later would never run for any model operation, cached
 * or not: a tenant filter or row-level-security hook added after the cache
 * would be silently dropped. Rather than let that happen, the cache's
 * client refuses such an extension when `$extends` runs, naming the fix
 * (apply `cacheExtension` last). Extensions that only add `model` methods,
 * `client` members, or `query` hooks on raw operations (`$queryRaw`...)
 * still work after it, and are let through.
 *
 * The check replaces the client's `$extends` with a `client` member of the
 * same name (see internals.ts): every client derived from the cached one
 * inherits it, and the function form of an extension
 * (`Prisma.defineExtension((client) => client.$extends({...}))`) reaches it
 * again with the object it builds.
 */
import { CacheError } from "../errors.js";

/** Keys of a `query` component that are not model operations: hooks on them run after the cache too. */
const RAW_QUERY_KEYS: ReadonlySet<string> = new Set(["$queryRaw", "$executeRaw", "$queryRawUnsafe", "$executeRawUnsafe", "$runCommandRaw", "$queryRawTyped"]);

/** Prisma's own `$extends`, as found on a client (it reads the client from `this`). */
type Extends = (this: unknown, extension: unknown) => unknown;

/**
 * A `$extends` for the cached client: refuses an extension whose model
 * `query` hooks or `result` fields the cache would bypass, and hands any
 * other to Prisma's own `$extends` (`original`).
 */
export function guardedExtends(original: Extends): Extends {
  return function $extends(this: unknown, extension: unknown): unknown {
    const problem = bypassedComponent(extension);
    if (problem !== undefined) {
      const name = (extension as { name?: unknown }).name;
      if (typeof name === "string" && name.startsWith("prisma-query-cache")) {
        throw new CacheError("E_EXTENSION_ORDER", "cacheExtension was applied to a client that already has it. Apply it once, last.");
      }
      throw new CacheError(
        "E_EXTENSION_ORDER",
        `the extension ${typeof name === "string" ? `"${name}" ` : ""}was applied after cacheExtension, and its ${problem}: the cache answers model operations before Prisma's query pipeline and calls the client below it. Apply cacheExtension last: prisma.$extends(yourExtension).$extends(cacheExtension(options)).`,
      );
    }
    return original.call(this, extension);
  };
}

/** What of `extension` the cache would bypass, and what that means, or undefined when nothing. */
function bypassedComponent(extension: unknown): string | undefined {
  if (typeof extension !== "object" || extension === null) return undefined; // The function form reaches us again with its object.
  const { query, result } = extension as { query?: unknown; result?: unknown };
  if (typeof query === "object" && query !== null && Object.keys(query).some((key) => !RAW_QUERY_KEYS.has(key))) return "`query` hooks on model operations would never run";
  if (typeof result === "object" && result !== null && Object.keys(result).length > 0) return "`result` fields would never be computed";
  return undefined;
}
