/**
 * The shared tier's fast codec for query results: plain JSON in which the few
 * values JSON cannot carry are strings with a one-character type tag.
 *
 * Why not superjson for everything: its walk builds a path string and an
 * annotation for every typed value and costs about 1 ms for a 20-row list with
 * relations, 13x `JSON.stringify` of the same rows; every miss pays it. This
 * codec copies the value once, replacing each typed value by a tagged string,
 * and leaves the rest to the engine's `JSON.stringify`. A result holding
 * anything outside its set (Map, Set, RegExp, URL, other typed arrays, class
 * instances) is refused with {@link NOT_TAGGABLE}, and the caller uses
 * superjson for it (serializer.ts): such values come from computations, not from
 * Prisma.
 *
 * The tag is U+007F (DEL): ASCII, so the text stays a one-byte string (cheap
 * to write to a socket), and JSON leaves it unescaped. A string of the result
 * that starts with it is itself tagged `S`, so no string is ever misread:
 *
 *     Date         "\x7FD1767297622000"   (its time; an invalid Date is "\x7FDNaN")
 *     BigInt       "\x7FB12345678901234567890"
 *     Decimal      "\x7FN1.50"            (Prisma.Decimal's own text: NaN and ±Infinity included)
 *     Bytes        "\x7FY<base64>"        (a Uint8Array; a Buffer comes back as a Uint8Array, as with superjson)
 *     number       "\x7FF-0", "\x7FFNaN", "\x7FFInfinity"  (what JSON would turn into 0 or null)
 *     undefined    "\x7FU"                (an object's own undefined property, or an array's hole)
 *     string       "\x7FS\x7F..."         (only a string that starts with the tag)
 */
import { Decimal } from "@prisma/client/runtime/client";

/** Thrown (never escapes serializer.ts) when a value holds something this codec does not carry. */
export const NOT_TAGGABLE = Symbol("not taggable");

const TAG = "\x7F";
const TAG_CODE = 0x7f;

/** The text of `value`; throws {@link NOT_TAGGABLE} when it holds a value outside this codec's set. */
export function stringifyTagged(value: unknown): string {
  return JSON.stringify(toTagged(value));
}

/** The value `text` (from {@link stringifyTagged}) encodes. */
export function parseTagged<T>(text: string): T {
  const parsed = JSON.parse(text) as unknown;
  // Most texts hold a tagged value (a Date per row, at least); one that holds none needs no walk.
  return (text.includes(TAG) ? revive(parsed) : parsed) as T;
}

function toTagged(value: unknown): unknown {
  switch (typeof value) {
    case "string":
      return value.charCodeAt(0) === TAG_CODE ? `${TAG}S${value}` : value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : `${TAG}F${Object.is(value, -0) ? "-0" : value}`;
    case "boolean":
      return value;
    case "undefined":
      return `${TAG}U`;
    case "bigint":
      return `${TAG}B${value}`;
    case "object":
      return value === null ? null : objectToTagged(value);
    default:
      throw NOT_TAGGABLE; // functions and symbols: superjson's path reports or drops them as it always did
  }
}

function objectToTagged(value: object): unknown {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) {
    const copy: Record<string, unknown> = {};
    for (const key in value) {
      const child = toTagged((value as Record<string, unknown>)[key]);
      // A Json column may hold an own "__proto__" key; assignment would set the prototype instead.
      if (key === "__proto__") define(copy, key, child);
      else copy[key] = child;
    }
    return copy;
  }
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = toTagged(value[i]);
    return copy;
  }
  if (value instanceof Date) return `${TAG}D${value.getTime()}`;
  if (Decimal.isDecimal(value)) return `${TAG}N${value.toJSON()}`;
  if (value instanceof Uint8Array && (proto === Uint8Array.prototype || Buffer.isBuffer(value)))
    return `${TAG}Y${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}`;
  throw NOT_TAGGABLE;
}

/** Replaces every tagged string in the freshly parsed `value` by what it stands for, in place. */
function revive(value: unknown): unknown {
  if (typeof value === "string") return value.charCodeAt(0) === TAG_CODE ? untag(value) : value;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" || (typeof item === "string" && item.charCodeAt(0) === TAG_CODE))
        value[i] = revive(item);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item !== "object" && !(typeof item === "string" && item.charCodeAt(0) === TAG_CODE)) continue;
    const revived = revive(item);
    // An own "__proto__" (JSON.parse makes one) shadows the prototype's accessor: plain assignment is safe here.
    if (revived !== item) record[key] = revived;
  }
  return value;
}

function untag(text: string): unknown {
  const body = text.slice(2);
  switch (text[1]) {
    case "D":
      return new Date(Number(body));
    case "B":
      return BigInt(body);
    case "N":
      return new Decimal(body);
    case "Y":
      return new Uint8Array(Buffer.from(body, "base64"));
    case "F":
      return body === "-0" ? -0 : Number(body);
    case "U":
      return undefined;
    case "S":
      return body;
    default:
      throw new Error(`unknown type tag ${JSON.stringify(text.slice(0, 2))} in a shared-tier entry`);
  }
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
