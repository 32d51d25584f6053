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
import { modelProperty } from "./internals.js";
import { MODEL_OPERATIONS } from "./operations.js";

/** Prisma's own `$extends`, as found on a client (it reads the client from `this`). */
type Extends = (this: unknown, extension: unknown) => unknown;

/**
 * A `$extends` for the cached client: refuses an extension whose model
 * `query` hooks or `result` fields the cache would bypass, and hands any
 * other to Prisma's own `$extends` (`original`).
 */
export function guardedExtends(original: Extends, models: readonly string[]): Extends {
  // Prisma looks hooks and fields up under the client property of a model (`user`), as these do.
  const modelKeys = models.map(modelProperty);
  return function $extends(this: unknown, extension: unknown): unknown {
    const problem = bypassedComponent(extension, modelKeys);
    if (problem !== undefined) {
      const name = (extension as { name?: unknown }).name;
      if (typeof name === "string" && name.startsWith("prisma-query-cache")) {
        throw new CacheError(
          "E_EXTENSION_ORDER",
          "cacheExtension was applied to a client that already has it. Apply it once, last.",
        );
      }
      throw new CacheError(
        "E_EXTENSION_ORDER",
        `the extension ${typeof name === "string" ? `"${name}" ` : ""}was applied after cacheExtension, and its ${problem}: the cache answers model operations before Prisma's query pipeline and calls the client below it. Apply cacheExtension last: prisma.$extends(yourExtension).$extends(cacheExtension(options)).`,
      );
    }
    return original.call(this, extension);
  };
}

/**
 * What of `extension` the cache would bypass, and what that means, or
 * undefined when nothing. Looked up the way Prisma looks hooks up (property
 * reads, so inherited or computed members count too), under every name
 * Prisma would run for a model operation.
 */
function bypassedComponent(extension: unknown, modelKeys: readonly string[]): string | undefined {
  if (typeof extension !== "object" || extension === null) return undefined; // The function form reaches us again with its object.
  const { query, result } = extension as { query?: unknown; result?: unknown };
  if (holdsAny(query, ["$allModels", "$allOperations", ...modelKeys, ...MODEL_OPERATIONS]))
    return "`query` hooks on model operations would never run";
  if (holdsAny(result, ["$allModels", ...modelKeys])) return "`result` fields would never be computed";
  return undefined;
}

/** True when `component` is an object with a value under any of `keys`. */
function holdsAny(component: unknown, keys: readonly string[]): boolean {
  if (typeof component !== "object" || component === null) return false;
  const members = component as Record<string, unknown>;
  return keys.some((key) => members[key] !== undefined && members[key] !== null);
}
