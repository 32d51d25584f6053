/**
 * Round trips through the shared tier's serialiser, for values chosen to break it: shared and equal values, holes,
 * keys that look like paths, markers or tags, Maps and Sets inside rows, look-alike strings. Each decodes to what
 * superjson's own format decodes to, except where superjson is unfaithful and tagged JSON (serialize/tagged-json.ts)
 * gives back what the in-process tier holds (cloneResult): those cases are listed, with what superjson does instead.
 */
import { isDeepStrictEqual, inspect } from "node:util";
import { expect, it } from "vitest";
import { Prisma } from "../../generated/postgres/client.ts";
import { cloneResult } from "../../../src/serialize/clone.js";
import { deserialize, serialize, superjsonFormat, unfolded } from "../../../src/serialize/serializer.js";

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
  tagLookAlikes: ["\x7F", "\x7FD1", "\x7FS\x7F", { "\x7FD1": "\x7FU", s: "a\x7F" }, [d1, "\x7FB1"]],
  bigNumbers: { max: Number.MAX_VALUE, min: Number.MIN_VALUE, neg: -Infinity, big: 2n ** 100n, negBig: -5n },
};

/**
 * Where superjson's decode differs from the value the in-process tier would hold, and tagged JSON matches the latter:
 * superjson turns a hole into null (an invalid Date too: tested below), and keeps an array's non-index properties, which no copy of
 * a result keeps.
 */
const unfaithfulInSuperjson = new Set(["holey", "arrayProps"]);

it("every value decodes from the folded format exactly as from superjson's own (folding changes size, never values)", () => {
  const differences: string[] = [];
  for (const [name, value] of Object.entries(cases)) {
    const text = serialize(value);
    const folded = deserialize(text);
    // superjson refuses `__proto__` keys, which the serialiser escapes: those must come back as they were.
    let plain: unknown = value;
    try {
      plain = unfaithfulInSuperjson.has(name) ? cloneResult(value) : unfolded.parse(unfolded.stringify(value));
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

it("an invalid Date comes back an invalid Date (superjson gives null)", () => {
  const back = deserialize<{ d: Date }[]>(serialize([{ d: new Date(NaN) }, { d: d1 }]));
  expect(back[0]?.d).toBeInstanceOf(Date);
  expect(Number.isNaN(back[0]?.d.getTime())).toBe(true);
  expect(back[1]?.d).toEqual(d1);
});

it("query results are written as tagged JSON; values holding a Map, a Set or a RegExp fall back to superjson", () => {
  const formats = Object.fromEntries(Object.entries(cases).map(([name, value]) => [name, serialize(value)[0]]));
  expect(formats).toMatchObject({ maps: "{", mapOfRows: "{", holey: "!", decimals: "!", bytes: "!", protoKey: "!" });
  expect(serialize({ r: /x/ })[0]).toBe("{");
  // superjson's format stays readable whatever the codec writes now: entries written before decode the same way.
  expect(deserialize(superjsonFormat.stringify(cases.decimals))).toEqual(cases.decimals);
});
