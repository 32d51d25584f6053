/**
 * Annotations folded once per shape (src/serialize/compact-meta.ts): an entry
 * shrinks, and always decodes to exactly what superjson alone would give back.
 */
import { Decimal } from "@prisma/client/runtime/client";
import { SuperJSON } from "superjson";
import { describe, expect, it } from "vitest";
import { superjsonFormat } from "../../src/serialize/serializer.ts";
import { Rng } from "./support/random.ts";

// The superjson format, which the shared tier uses for values tagged JSON does not carry (Maps, Sets...).
const { stringify: serialize, parse: deserialize } = superjsonFormat;

/** A list of `count` Prisma-like rows, each with dates, a Decimal, a BigInt, bytes and an included relation. */
function rows(count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    title: `Post ${i}`,
    createdAt: new Date(Date.UTC(2024, 0, 1 + i)),
    publishedAt: i % 3 === 0 ? null : new Date(Date.UTC(2024, 1, 1 + i)),
    balance: new Decimal(`${i}.25`),
    visits: BigInt(i) * 1_000_000_000_000n,
    avatar: new Uint8Array([i, i + 1]),
    author: { id: 7, email: "a@b.c", joinedAt: new Date(Date.UTC(2020, 5, 1)) },
    comments: [{ id: i * 10, createdAt: new Date(Date.UTC(2024, 2, 1)) }],
  }));
}

const payloadOf = (text: string) => JSON.parse(text) as { json: unknown; meta?: Record<string, unknown> };

describe("annotations folded once per shape", () => {
  it("a 20-row list with dates round-trips exactly, and its annotations are written once, not once per row", () => {
    const value = rows(20);
    const text = serialize(value);
    expect(deserialize(text)).toEqual(value);
    const meta = payloadOf(text).meta ?? {};
    expect(meta.values).toBeUndefined();
    expect(meta.f).toEqual({
      "*": {
        createdAt: ["Date"],
        publishedAt: ["Date"],
        balance: [["custom", "prisma.Decimal"]],
        visits: ["bigint"],
        avatar: [["custom", "prisma.Bytes"]],
        author: { joinedAt: ["Date"] },
        comments: { "*": { createdAt: ["Date"] } },
      },
    });
    // Equal bigints are not recorded as shared references.
    expect(meta.referentialEqualities).toBeUndefined();
    expect(text.length).toBeLessThan(SuperJSON.stringify(value).length * 0.7);
  });

  it("keeps superjson's own map where a fold would describe a value wrongly: a date in one row, a string at the same path in another", () => {
    const value = [{ at: new Date(0) }, { at: "1970-01-01T00:00:00.000Z" }, { at: new Date(1) }];
    const text = serialize(value);
    expect(JSON.stringify(payloadOf(text).meta)).not.toContain('"*"');
    const back = deserialize<typeof value>(text);
    expect(back).toEqual(value);
    expect(typeof back[1]?.at).toBe("string");
  });

  it("keeps shared references that are objects (a computed value may share them)", () => {
    const shared = { at: new Date(5) };
    const back = deserialize<{ a: unknown; b: unknown }>(serialize({ a: shared, b: shared }));
    expect(back.a).toEqual(shared);
    expect(back.a).toBe(back.b);
  });

  it("round-trips keys holding '.', '\\\\' and '*', Maps and Sets inside rows, and a lone annotated root", () => {
    const value = [
      { "a.b": new Date(1), "c\\d": 1n, "*": new Date(2), m: new Map([["k", new Date(3)]]), s: new Set([4n]) },
      { "a.b": new Date(5), "c\\d": 2n, "*": new Date(6), m: new Map([["k", new Date(7)]]), s: new Set([8n]) },
    ];
    expect(deserialize(serialize(value))).toEqual(value);
    expect(deserialize(serialize(new Date(9)))).toEqual(new Date(9));
    expect(deserialize(serialize(12n))).toBe(12n);
  });

  it("random lists of rows mixing types, nulls, missing fields and nesting decode to the same values", () => {
    const leaf = (rng: Rng): unknown =>
      rng.pick([
        () => null,
        () => new Date(rng.int(1e12)),
        () => BigInt(rng.int(1e9)),
        () => new Decimal(rng.int(1e6) / 100),
        () => new Uint8Array([rng.int(256)]),
        () => `s${rng.int(9)}`,
        () => rng.int(100),
        () => undefined,
      ])();
    const node = (rng: Rng, depth: number): unknown => {
      if (depth === 0 || rng.int(3) === 0) return leaf(rng);
      if (rng.int(2) === 0) return Array.from({ length: rng.int(4) }, () => node(rng, depth - 1));
      const object: Record<string, unknown> = {};
      for (const key of ["a", "b", "c"].slice(0, 1 + rng.int(3))) object[key] = node(rng, depth - 1);
      return object;
    };
    const rng = new Rng(20261207);
    let folded = 0;
    for (let run = 0; run < 500; run++) {
      // Rows that share a shape most of the time (built from one seed), as query results do, with random departures.
      const shared = rng.int(1e9);
      const value = Array.from({ length: 1 + rng.int(6) }, () =>
        node(rng.int(4) === 0 ? new Rng(rng.int(1e9)) : new Rng(shared), 3),
      );
      const text = serialize(value);
      if (text.includes('"*"')) folded++;
      expect(deserialize(text), `run ${run}: ${text}`).toEqual(value);
    }
    expect(folded, "some of the random lists were folded").toBeGreaterThan(50);
  });
});
