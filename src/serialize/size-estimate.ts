/**
 * A fast estimate of the bytes a decoded query result holds, used to bound
 * the in-process tier by size without serialising on the caller's path.
 * Strings count two bytes a character (UTF-16); other values a flat cost
 * close to V8's. It is an estimate: the bound is approximate, as documented.
 */
import { Decimal } from "@prisma/client/runtime/client";

const OBJECT_BYTES = 56;
const SLOT_BYTES = 16;

/** Estimated retained size of `value`, in bytes. */
export function estimateSize(value: unknown): number {
  switch (typeof value) {
    case "string":
      return 16 + 2 * value.length;
    case "object": {
      if (value === null) return SLOT_BYTES;
      if (Array.isArray(value)) {
        let total = OBJECT_BYTES;
        for (const item of value) total += SLOT_BYTES + estimateSize(item);
        return total;
      }
      if (value instanceof Uint8Array) return OBJECT_BYTES + value.byteLength;
      if (value instanceof Date) return OBJECT_BYTES;
      if (Decimal.isDecimal(value)) return OBJECT_BYTES + 8 * decimalDigits(value as Decimal);
      let total = OBJECT_BYTES;
      for (const key in value)
        total += SLOT_BYTES + 2 * key.length + estimateSize((value as Record<string, unknown>)[key]);
      return total;
    }
    default:
      return SLOT_BYTES;
  }
}

/**
 * Words of a Decimal's digit array. NaN and ±Infinity (Postgres `numeric`
 * allows all three) have no digits: decimal.js sets `d` to null for them.
 */
function decimalDigits(value: Decimal): number {
  const digits = value.d as number[] | null;
  return digits === null ? 0 : digits.length;
}
