/**
 * Computation caching: `prisma.$cache.getOrSet(key, fn, options)` caches what
 * `fn` returns under `key`, on the same tiers and with the same rules as a
 * cached read (docs/expiry.md, "Computation caching"). A computation is
 * handled like `$cache.queryRaw`: its dependencies cannot be derived, so
 * they are the tags and models the caller declares, and it is keyed by a
 * pseudo-model (`$computation`) that no Prisma model can be named.
 *
 * This module validates a call (a bad key, function or option is a
 * programming error: the call rejects) and turns it into a key, tags and an
 * expiry for the read path. What the read path cannot store is handled here:
 * an `undefined` result is returned but never cached.
 */
import { CacheError } from "../errors.js";
import { EXPIRY_OPTION_KEYS, layerExpiry, rejectUnknownKeys, type ResolvedExpiry } from "../options/resolve.js";
import type { ContextValue, ExpiryOptions } from "../options/types.js";
import { findUnrepresentable, type Unrepresentable } from "../serialize/serializer.js";
import { missingDimension } from "../keys/context.js";
import type { ReadPath } from "./read-path.js";
import { Uncacheable } from "./filler.js";

/**
 * Options of `prisma.$cache.getOrSet`: the expiry options of a cached read, plus the computation's dependencies and
 * context.
 */
export interface GetOrSetOptions extends ExpiryOptions {
  /**
   * Custom tags the value depends on: `prisma.$cache.invalidate({ tags })`,
   * or a write with `cache: { invalidates }`, naming one of them kills the
   * entry. Non-empty strings without whitespace; `m:`, `r:`, `rs:`, `j:` and `q:`
   * are reserved. Part of the key: the same key declared with other
   * dependencies is another entry.
   */
  tags?: readonly string[];
  /**
   * Models the value is computed from, as named in the schema (`User`): a
   * write through the client (on any instance) that changes rows of one of
   * them or links it across an implicit many-to-many, or
   * `prisma.$cache.invalidate({ models })`, kills the entry. Declare every
   * model whose rows the value reads (a user's post count reads `Post`).
   * Part of the key, like `tags`.
   */
  models?: readonly string[];
  /**
   * Which context the value belongs to:
   * - `true` (default): the extension's `context()` dimensions are part of
   *   the key, as for a cached read; a missing (`undefined`) one makes the
   *   call run `fn` uncached and reports `E_CONTEXT`;
   * - `false`: no dimension is; one entry is shared by every context (say so
   *   only for values that do not depend on the caller);
   * - an object such as `{ locale: "fr" }`: extra dimensions, keyed in
   *   addition to (and apart from, so never replacing) the extension's.
   *   An `undefined` value is a missing dimension, as above.
   * @default true
   */
  context?: boolean | Record<string, ContextValue | undefined>;
}

/** The options a computation accepts: the expiry options, handed to `layerExpiry`, and its dependencies and context. */
const KNOWN_KEYS: ReadonlySet<string> = new Set([...EXPIRY_OPTION_KEYS, "tags", "models", "context"]);

/** The pseudo-model of computation keys (see ReadPath.readDeclared); `$` cannot start a Prisma model name. */
const MODEL = "$computation";

/** Longest part of a key quoted in a message. */
const QUOTED_KEY_LENGTH = 60;

/** What a computation needs from the extension. */
export interface ComputationParts {
  readPath: ReadPath;
  /** The extension's resolved `defaults`, under which a call's expiry options are layered. */
  defaults: ResolvedExpiry;
  /** Validates declared `{ tags, models }` and returns the tags they stand for (the handle's `tagsOf`). */
  declaredTags(target: { tags?: readonly string[]; models?: readonly string[] }, where: string): string[];
  /** Reports an absorbed failure (onError). */
  report(error: CacheError): void;
}

/** How one `getOrSet` call is keyed and stored. */
interface CallPlan {
  /** The declared tags: custom tags, and the model and rows tag of each declared model. */
  readonly tags: string[];
  readonly expiry: ResolvedExpiry;
  /** False for `context: false`: keyed without the extension's dimensions. */
  readonly withContext: boolean;
  /** Extra dimensions from `context: { ... }`, keyed with the computation's key. */
  readonly extra: Record<string, ContextValue | undefined> | undefined;
}

/** Runs `getOrSet` calls for one extension instance. */
export class Computations {
  readonly #parts: ComputationParts;

  constructor(parts: ComputationParts) {
    this.#parts = parts;
  }

  /**
   * The cached value of `fn` under `key`, or `fn()`'s value when there is
   * none (then stored). See {@link GetOrSetOptions} and `CacheHandle.getOrSet`.
   * @throws CacheError `E_INVALID_KEY`, `E_INVALID_OPTION` or `E_INVALID_TAG` for an invalid call (as a rejection)
   */
  async getOrSet<T>(key: string, fn: () => T | PromiseLike<T>, options?: GetOrSetOptions): Promise<T> {
    const call = this.#plan(key, fn, options);
    const load = async (): Promise<unknown> => {
      const value = await fn();
      // The tiers never store `undefined` (filler.ts #entryOf); say why nothing was cached.
      if (value === undefined)
        this.#parts.report(
          new CacheError(
            "E_UNCACHEABLE",
            `getOrSet(${quote(key)}): the function returned undefined, which is returned as is but never cached. Return null to cache "nothing".`,
          ),
        );
      return this.#storable(key, value);
    };
    const missing = call.extra === undefined ? undefined : missingDimension(call.extra);
    if (missing !== undefined) {
      this.#parts.report(
        new CacheError(
          "E_CONTEXT",
          `getOrSet(${quote(key)}): context dimension \`${missing}\` is undefined; the function ran uncached rather than under a key shared across contexts. Give every dimension a value (or null).`,
        ),
      );
      return unwrap(await load()) as T;
    }
    const args = call.extra === undefined ? { key } : { key, context: call.extra };
    return unwrap(
      await this.#parts.readPath.readDeclared(
        { model: MODEL, operation: "getOrSet", args },
        call.tags,
        call.expiry,
        load,
        call.withContext,
      ),
    ) as T;
  }

  /**
   * `value`, or, when the shared tier cannot hold it (a function inside, a
   * class instance superjson would flatten, a cycle), the value wrapped so
   * that no tier stores it, reported as `E_SERIALIZE`. Checked here rather
   * than on every fill: only a computation can return such a value (query
   * results are Prisma's plain data), and the walk costs as much as a copy.
   */
  #storable(key: string, value: unknown): unknown {
    let found: Unrepresentable | undefined;
    try {
      found = findUnrepresentable(value);
    } catch (error) {
      // Only a cycle (or absurd depth) overflows the walk.
      if (!(error instanceof RangeError)) throw error;
      found = { what: "a circular (or far too deeply nested) value", path: "" };
    }
    if (found === undefined) return value;
    const where = found.path === "" ? "" : ` at \`${found.path}\``;
    this.#parts.report(
      new CacheError(
        "E_SERIALIZE",
        `getOrSet(${quote(key)}): the value holds ${found.what}${where}, which the shared tier (Redis) cannot hold; it was returned uncached, in neither tier, so that every tier and instance answers alike. Return plain data: objects, arrays, strings, numbers, booleans, null, Date, BigInt, Decimal, Uint8Array, Map, Set.`,
      ),
    );
    return new Uncacheable(value);
  }

  /** Validates a call; throws (the call rejects) for a programming error. */
  #plan(key: unknown, fn: unknown, options: GetOrSetOptions | undefined): CallPlan {
    if (typeof key !== "string" || key.length === 0) {
      const got = typeof key === "string" ? "an empty string" : key === null ? "null" : typeof key;
      throw new CacheError(
        "E_INVALID_KEY",
        `getOrSet(key, fn): the key is ${got}. Use a non-empty string that names the value, such as "report:" + reportId.`,
      );
    }
    if (typeof fn !== "function") {
      throw new CacheError(
        "E_INVALID_OPTION",
        `getOrSet(${quote(key)}, fn): fn is ${fn === null ? "null" : typeof fn}. Pass the function that computes the value, such as () => buildReport(reportId).`,
      );
    }
    if (options === undefined) return { tags: [], expiry: this.#parts.defaults, withContext: true, extra: undefined };
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new CacheError(
        "E_INVALID_OPTION",
        `getOrSet(${quote(key)}, fn, options): options is ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options}. Pass an object such as { ttl: 60, models: ["User"] }, or leave it out.`,
      );
    }
    rejectUnknownKeys(options, KNOWN_KEYS, "getOrSet");
    const { tags, models, context, ...expiry } = options;
    const declared = this.#parts.declaredTags({ tags, models }, "getOrSet");
    // Everything left is an expiry option (the unknown-key check above): layered as a query's `cache` settings are.
    const layered = layerExpiry(this.#parts.defaults, expiry, "getOrSet");
    if (context === undefined || typeof context === "boolean")
      return { tags: declared, expiry: layered, withContext: context !== false, extra: undefined };
    const extra = extraDimensions(context);
    // No extra dimension is the default context: the same entry as `context: true`.
    return {
      tags: declared,
      expiry: layered,
      withContext: true,
      extra: Object.keys(extra).length === 0 ? undefined : extra,
    };
  }
}

/**
 * The value a caller gets: an uncacheable one unwrapped (shared by the callers of one load: it cannot be copied
 * faithfully either).
 */
function unwrap(result: unknown): unknown {
  return result instanceof Uncacheable ? result.value : result;
}

/**
 * Validates `context: { ... }`: a plain object of dimension values (`undefined` is allowed: a missing dimension,
 * reported per call).
 */
function extraDimensions(context: unknown): Record<string, ContextValue | undefined> {
  const proto =
    typeof context === "object" && context !== null ? (Object.getPrototypeOf(context) as unknown) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new CacheError(
      "E_INVALID_OPTION",
      `option \`getOrSet.context\` is ${context === null ? "null" : Array.isArray(context) ? "an array" : typeof context}. Use true (the extension's dimensions), false (shared by every context) or an object of extra dimensions such as { locale: "fr" }.`,
    );
  }
  const dimensions = context as Record<string, unknown>;
  for (const [name, value] of Object.entries(dimensions)) {
    if (
      value !== undefined &&
      value !== null &&
      typeof value !== "string" &&
      typeof value !== "number" &&
      typeof value !== "boolean"
    ) {
      throw new CacheError(
        "E_INVALID_OPTION",
        `option \`getOrSet.context.${name}\` is ${Array.isArray(value) ? "an array" : typeof value}. A dimension is a string, number, boolean or null.`,
      );
    }
  }
  return dimensions as Record<string, ContextValue | undefined>;
}

/** `key` for a message, cut so that a runaway key does not flood the log. */
function quote(key: string): string {
  return JSON.stringify(key.length > QUOTED_KEY_LENGTH ? `${key.slice(0, QUOTED_KEY_LENGTH)}...` : key);
}
