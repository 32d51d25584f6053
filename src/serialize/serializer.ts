/**
 * The one serialiser of the shared tier. Every type a Prisma result can hold
 * comes back with the same type and value as an uncached query: Date, BigInt,
 * Decimal (`Prisma.Decimal`), Bytes (`Uint8Array`), and Json values (plain
 * JSON). Two formats, told apart by the text's first character:
 *
 * - `!` and tagged JSON (tagged-json.ts): every query result, and any value
 *   made only of plain objects, arrays, primitives and those types; about 13x
 *   cheaper to write than superjson;
 * - superjson, with registrations for the Prisma types it does not know, for
 *   the rest (Map, Set, RegExp, URL... which only computations return).
 */
import { Decimal } from "@prisma/client/runtime/client";
import { SuperJSON, type SuperJSONResult } from "superjson";
import { expandAnnotations, foldAnnotations, reviveFolded, type FoldedTree } from "./compact-meta.js";
import { NOT_TAGGABLE, parseTagged, stringifyTagged } from "./tagged-json.js";

const serializer = new SuperJSON();

serializer.registerCustom<Decimal, string>(
  {
    isApplicable: (value): value is Decimal => Decimal.isDecimal(value),
    serialize: (value) => value.toJSON(),
    deserialize: (text) => new Decimal(text),
  },
  "prisma.Decimal",
);

serializer.registerCustom<Uint8Array, string>(
  {
    // Prisma 7 returns Bytes as Uint8Array; a Buffer is one too and comes back as a plain Uint8Array.
    isApplicable: (value): value is Uint8Array => value instanceof Uint8Array,
    serialize: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
    deserialize: (text) => new Uint8Array(Buffer.from(text, "base64")),
  },
  "prisma.Bytes",
);

/** Where a value holds something the shared tier cannot carry, and what it is. */
export interface Unrepresentable {
  /** `a function`, `a symbol`, `an instance of Foo`. */
  readonly what: string;
  /** Where, as an accessor path from the value: `.report.render`, `[2]`; empty for the value itself. */
  readonly path: string;
}

/**
 * The first part of `value` the shared tier cannot carry faithfully, or
 * undefined when it round-trips. superjson does not throw for these: it
 * drops functions and symbols and turns class instances it does not know
 * into plain objects. The in-process tier keeps the value itself, so
 * storing such a value would make the two tiers answer differently.
 *
 * Carried: primitives other than symbols, plain objects, arrays, Date,
 * Decimal, Uint8Array and other typed arrays, Map and Set (with their
 * contents), RegExp and URL. Errors are not: they come back as a plain
 * `Error` without their class or stack.
 *
 * Walks the whole value; the path is built only when something is found.
 */
export function findUnrepresentable(value: unknown): Unrepresentable | undefined {
  const found = walk(value);
  return found === undefined ? undefined : { what: found.what, path: found.path.reverse().join("") };
}

function walk(value: unknown): { what: string; path: string[] } | undefined {
  if (typeof value === "function" || typeof value === "symbol") return { what: `a ${typeof value}`, path: [] };
  if (typeof value !== "object" || value === null) return undefined;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null || Array.isArray(value)) {
    const isArray = Array.isArray(value);
    for (const key in value) {
      const found = walk((value as Record<string, unknown>)[key]);
      if (found !== undefined) {
        found.path.push(isArray ? `[${key}]` : `.${key}`);
        return found;
      }
    }
    return undefined;
  }
  if (value instanceof Date || Decimal.isDecimal(value) || value instanceof RegExp || value instanceof URL)
    return undefined;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return undefined;
  if (value instanceof Map || value instanceof Set) {
    for (const [key, item] of value instanceof Map ? value : [...value].entries()) {
      const found = walk(key) ?? walk(item);
      if (found !== undefined) {
        found.path.push(`<${value instanceof Map ? "in a Map" : "in a Set"}>`);
        return found;
      }
    }
    return undefined;
  }
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return { what: `an instance of ${typeof name === "string" && name !== "" ? name : "a class"}`, path: [] };
}

/**
 * superjson refuses objects with a `__proto__`, `constructor` or `prototype`
 * key (a prototype-pollution guard), but a Json column may legitimately hold
 * one. Such values are stored with those keys renamed behind a marker, and the
 * payload starts with ESCAPED so the common path never pays for the walk.
 */
const ESCAPED = "~";
/** The first character of a tagged-JSON text; superjson's start with `{` (or ESCAPED). */
const TAGGED = "!";
const KEY_MARK = "\u0001pqc:";
const GUARDED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Serialises a query result to text. Throws for values superjson cannot represent. */
export function serialize(value: unknown): string {
  try {
    return TAGGED + stringifyTagged(value);
  } catch (error) {
    if (error !== NOT_TAGGABLE) throw error;
  }
  try {
    return compactStringify(value);
  } catch (error) {
    if (!hasGuardedKey(value)) throw error;
    return ESCAPED + compactStringify(renameKeys(value, escapeKey));
  }
}

/** Inverse of {@link serialize}. */
export function deserialize<T>(text: string): T {
  if (text.startsWith(TAGGED)) return parseTagged<T>(text.slice(TAGGED.length));
  if (!text.startsWith(ESCAPED)) return compactParse<T>(text);
  return renameKeys(compactParse<unknown>(text.slice(ESCAPED.length)), unescapeKey) as T;
}

/**
 * The superjson format alone (annotations folded, compact-meta.ts), which {@link serialize} uses for values tagged
 * JSON does not carry; exported for its tests, which need it for every value.
 */
export const superjsonFormat = {
  stringify: (value: unknown): string => compactStringify(value),
  parse: <T>(text: string): T => compactParse<T>(text),
};

/**
 * superjson's own text for the same registrations, without folding: what entries looked like before, kept for the
 * entry-size benchmark (bench/entry-size.bench.ts) to compare against.
 */
export const unfolded = {
  stringify: (value: unknown): string => serializer.stringify(value),
  parse: <T>(text: string): T => serializer.parse<T>(text),
};

/**
 * How to revive the annotations query results hold, without superjson's path walk; undefined for the rest (Map,
 * Set, RegExp, undefined...), which superjson revives. Each must match superjson's own (and the registrations above).
 */
function reviver(annotation: readonly unknown[]): ((text: unknown) => unknown) | undefined {
  if (annotation.length !== 1) return undefined;
  const kind = annotation[0];
  if (kind === "Date") return (text) => new Date(text as string);
  if (kind === "bigint") return (text) => BigInt(text as string);
  if (Array.isArray(kind) && kind.length === 2 && kind[0] === "custom") {
    if (kind[1] === "prisma.Decimal") return (text) => new Decimal(text as string);
    if (kind[1] === "prisma.Bytes") return (text) => new Uint8Array(Buffer.from(text as string, "base64"));
  }
  return undefined;
}

/** superjson's result, whose meta may hold its annotations folded per shape (`f`, compact-meta.ts) instead of `values`. */
interface CompactResult {
  json: SuperJSONResult["json"];
  meta?: NonNullable<SuperJSONResult["meta"]> & { f?: FoldedTree };
}

/**
 * superjson's text, with the per-value annotations folded once per shape where that gives back the same map, and
 * without the referential equalities of bigints (superjson records equal bigints as shared references; they are
 * equal by value anyway). Both only shrink the entry: it decodes to the same value.
 */
function compactStringify(value: unknown): string {
  const result = serializer.serialize(value) as CompactResult;
  const meta = result.meta;
  const values = meta?.values;
  if (meta === undefined || values === undefined || Array.isArray(values)) return JSON.stringify(result);
  const annotations = values as Record<string, readonly unknown[]>;
  const equalities = meta.referentialEqualities;
  if (equalities !== undefined && !Array.isArray(equalities)) {
    for (const path of Object.keys(equalities)) if (annotations[path]?.[0] === "bigint") delete equalities[path];
    if (Object.keys(equalities).length === 0) delete meta.referentialEqualities;
  }
  const folded = foldAnnotations(result.json, annotations);
  if (folded !== undefined) {
    delete meta.values;
    meta.f = folded;
  }
  return JSON.stringify(result);
}

function compactParse<T>(text: string): T {
  const result = JSON.parse(text) as CompactResult;
  const folded = result.meta?.f;
  // A query result's usual annotations (dates, bigints, Decimal, bytes) are revived here, without superjson's walk.
  if (folded !== undefined && result.meta?.referentialEqualities === undefined) {
    if (reviveFolded(result.json, folded, reviver)) return result.json as T;
  }
  if (result.meta !== undefined && folded !== undefined) {
    result.meta.values = expandAnnotations(result.json, folded) as NonNullable<SuperJSONResult["meta"]>["values"];
    delete result.meta.f;
  }
  return serializer.deserialize<T>(result as SuperJSONResult);
}

function escapeKey(key: string): string {
  return GUARDED_KEYS.has(key) || key.startsWith(KEY_MARK) ? KEY_MARK + key : key;
}

function unescapeKey(key: string): string {
  return key.startsWith(KEY_MARK) ? key.slice(KEY_MARK.length) : key;
}

function hasGuardedKey(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(hasGuardedKey);
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) {
    if (GUARDED_KEYS.has(key) || hasGuardedKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Copies plain objects and arrays with every key passed through `rename`; other values are kept as they are. */
function renameKeys(value: unknown, rename: (key: string) => string): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // defineProperty: assigning "__proto__" would set the prototype instead of a key.
    Object.defineProperty(copy, rename(key), {
      value: renameKeys((value as Record<string, unknown>)[key], rename),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}
