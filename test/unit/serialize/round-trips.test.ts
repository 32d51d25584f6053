/**
 * Round trips through the shared tier's serialiser: the folded annotations (serialize/compact-meta.ts) decode to
 * exactly what superjson's own format decodes to, for values chosen to break a fold: shared and equal values, holes,
 * keys that look like paths or markers, Maps and Sets inside rows, look-alike strings.
 */
import { isDeepStrictEqual, inspect } from "node:util";
import { expect, it } from "vitest";
import { Prisma } from "../../generated/postgres/client.ts";
import { deserialize, serialize, unfolded } from "../../../src/serialize/serializer.js";

const d1 = new Date("2024-01-01T00:00:00.000Z");
const d2 = new Date("2025-01-01T00:00:00.000Z");
const shared = { x: d1 };
// eslint-disable-next-line no-sparse-arrays
const holey = [d1, , d2];
const cases: Record<string, unknown> = {
  twoBigints: { a: 1n, b: 1n, c: [1n, 1n, 2n] },
  bigintsInRows: [
    { v: 5n, w: 5n },
    { v: 5n, w: 6n },
  ],
  sharedDate: { a: d1, b: d1 },
  sharedObj: { a: shared, b: shared, c: [shared, shared] },
  holey,
  nestedArrays: [[d1, d2], [d1], [], [null, d2]],
  mixed: [d1, "2024-01-01T00:00:00.000Z", d2],
  dotKeys: { "a.b": d1, a: { b: "x" }, "a\\": { b: d2 }, "\\.": d1 },
  starKey: { "*": d1, x: [{ "*": d1 }, { "*": d2 }] },
  protoKey: JSON.parse('{"__proto__": {"d": 1}, "rows": [1]}'),
  protoWithDate: Object.defineProperty({ x: d1, y: d2 }, "__proto__", { value: { z: d1 }, enumerable: true }),
  ctorKey: { constructor: { d: d1 }, rows: [{ constructor: d2 }, { constructor: d1 }] },
  maps: {
    m: new Map([
      ["a", d1],
      ["b", d2],
    ]),
    s: new Set([d1, 1n]),
  },
  mapOfRows: [{ m: new Map([[1, d1]]) }, { m: new Map([[2, d2]]) }],
  decimals: [{ p: new Prisma.Decimal("1.10") }, { p: new Prisma.Decimal("-0") }, { p: null }],
  bytes: [{ b: new Uint8Array([1, 2]) }, { b: Buffer.from([3]) }],
  undefinedVals: [
    { a: undefined, d: d1 },
    { a: 1, d: d2 },
  ],
  negZero: [
    { n: -0, d: d1 },
    { n: NaN, d: d2 },
    { n: Infinity, d: d1 },
  ],
  invalidDate: [{ d: new Date(NaN) }, { d: d1 }],
  emptyKey: { "": d1, a: { "": d2 } },
  numericKeys: { "0": d1, "1": d2, rows: { "0": d1, "1": d2 } },
  arrayProps: Object.assign([d1, d2], { extra: d1 }),
  json1: [
    { settings: { looksLikeDate: "2024-01-01T00:00:00.000Z", t: "Date", "*": "x" }, at: d1 },
    { settings: null, at: d2 },
  ],
  jsonLookAlikeMeta: [
    { settings: { json: {}, meta: { values: { a: ["Date"] } } }, at: d1 },
    { settings: 1, at: d2 },
  ],
  markKey: { "\u0001pqc:__proto__": d1, constructor: d2 },
  rowsWithOptionalDate: [{ d: d1 }, { d: null }, {}, { d: d2 }],
  bigintArraysOfArrays: [[1n, 2n], [3n], [[4n]]],
  deepSameBigint: [{ a: { b: 7n } }, { a: { b: 7n } }],
};

it("every value decodes from the folded format exactly as from superjson's own (folding changes size, never values)", () => {
  const differences: string[] = [];
  for (const [name, value] of Object.entries(cases)) {
    const text = serialize(value);
    const folded = deserialize(text);
    // superjson refuses `__proto__` keys, which the serialiser escapes: those must come back as they were.
    let plain: unknown = value;
    try {
      plain = unfolded.parse(unfolded.stringify(value));
    } catch {
      // Compared with the original value instead.
    }
    if (!isDeepStrictEqual(folded, plain))
      differences.push(
        `${name}: ${text}\n  folded=${inspect(folded, { depth: 6 })}\n  superjson=${inspect(plain, { depth: 6 })}`,
      );
  }
  expect(differences).toEqual([]);
});
