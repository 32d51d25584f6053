/**
 * Tagged JSON (src/serialize/tagged-json.ts), the shared tier's codec for query results: random values made of what
 * Prisma returns (rows, nested relations, nulls, Dates, BigInt, Decimal, bytes, Json values whose strings and keys
 * look like tags) decode to exactly what the in-process tier holds for them (cloneResult), and the text stays small.
 */
import { Decimal } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { cloneResult } from "../../../src/serialize/clone.ts";
import { NOT_TAGGABLE, parseTagged, stringifyTagged } from "../../../src/serialize/tagged-json.ts";
import { Rng } from "../support/random.ts";

const TAG = "\x7F";

function leaf(rng: Rng): unknown {
  return rng.pick([
    () => null,
    () => new Date(rng.int(4e12) - 1e12),
    () => new Date(NaN),
    () => BigInt(rng.int(1e9)) * (rng.int(2) === 0 ? -1n : 10n ** 20n),
    () => new Decimal(`${rng.int(1e6) / 100}`),
    () => new Decimal(rng.pick(["NaN", "Infinity", "-Infinity", "-0", "1e-30"])),
    () => new Uint8Array(Array.from({ length: rng.int(5) }, () => rng.int(256))),
    () => Buffer.from([rng.int(256)]),
    () => rng.pick(["", "s", TAG, `${TAG}D1`, `${TAG}S${TAG}`, `${TAG}U`, "a\x7F", "é€😀", '\u0000\n"']),
    () => rng.int(1e6) - 5e5,
    () => rng.pick([0.1, -0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 1e308]),
    () => rng.int(2) === 0,
    () => undefined,
  ])();
}

function node(rng: Rng, depth: number): unknown {
  if (depth === 0 || rng.int(3) === 0) return leaf(rng);
  if (rng.int(2) === 0) return Array.from({ length: rng.int(4) }, () => node(rng, depth - 1));
  const object: Record<string, unknown> = {};
  for (const key of ["id", TAG, `${TAG}D1`, "constructor", "*", "a.b"].slice(0, 1 + rng.int(6)))
    object[key] = node(rng, depth - 1);
  if (rng.int(8) === 0)
    Object.defineProperty(object, "__proto__", { value: node(rng, depth - 1), enumerable: true, writable: true });
  return object;
}

/** Equal, with an invalid Date equal to an invalid Date and -0 apart from 0 (what toEqual does not quite say). */
function same(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
  if (Decimal.isDecimal(a) && Decimal.isDecimal(b)) return a.toJSON() === b.toJSON();
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.join("\0") !== keysB.join("\0")) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  return keysA.every((key) => same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

describe("tagged JSON", () => {
  it("2,000 random values decode to what the in-process tier holds, and touch no prototype", () => {
    const rng = new Rng(20261207);
    for (let run = 0; run < 2_000; run++) {
      const value = node(rng, 4);
      const text = stringifyTagged(value);
      const back = parseTagged(text);
      expect(same(back, cloneResult(value)), `run ${run}: ${text}`).toBe(true);
    }
    expect(({} as Record<string, unknown>).id).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it("a Buffer comes back as a Uint8Array holding the same bytes", () => {
    const back = parseTagged<{ b: Uint8Array }>(stringifyTagged({ b: Buffer.from([1, 2, 3]) }));
    expect(Object.getPrototypeOf(back.b)).toBe(Uint8Array.prototype);
    expect([...back.b]).toEqual([1, 2, 3]);
  });

  it("refuses what it does not carry, so that the caller uses superjson", () => {
    for (const value of [new Map(), new Set([1]), /x/, new URL("http://a"), new Int16Array(2), () => 1, Symbol("s")]) {
      let thrown: unknown;
      try {
        stringifyTagged({ rows: [{ value }] });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBe(NOT_TAGGABLE);
    }
  });

  it("a 20-row list with two dates a row is no larger than its plain JSON", () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({
      id: i,
      title: `title ${i}`,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      updatedAt: new Date(Date.UTC(2026, 0, 2, 0, 0, i)),
      author: { username: `user${i}`, followedBy: [{ id: 1 }] },
    }));
    expect(stringifyTagged(rows).length).toBeLessThanOrEqual(JSON.stringify(rows).length);
  });

  it("an unknown tag is an error (the entry is then ignored as damaged), not a wrong value", () => {
    expect(() => parseTagged(`["${TAG}Q1"]`)).toThrow(/unknown type tag/);
  });
});
