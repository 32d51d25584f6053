/**
 * The shared tier's serialiser: every type a Prisma result can hold comes
 * back with the same type and value.
 */
import { Decimal } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { deserialize, findUnrepresentable, serialize } from "../../src/serialize/serializer.ts";
import { Prisma } from "../generated/sqlite/client.ts";

const roundTrip = <T>(value: T): T => deserialize<T>(serialize(value));

describe("serializer round trip", () => {
  it("keeps a Decimal a Decimal of the runtime (and of the generated client's Prisma.Decimal)", () => {
    const restored = roundTrip({ balance: new Decimal("12.34") }).balance;
    expect(restored).toBeInstanceOf(Decimal);
    expect(restored).toBeInstanceOf(Prisma.Decimal);
    expect(restored.toFixed()).toBe("12.34");
  });

  it.each([
    "123456789012345678901234567890.123456789",
    "-98765432109876543210987654321098765",
    "0.000000000000000000000000000001",
  ])("keeps every digit of the Decimal %s", (digits) => {
    const original = new Decimal(digits);
    const restored = roundTrip(original);
    expect(restored).toBeInstanceOf(Decimal);
    expect(restored.toFixed()).toBe(digits);
    expect(restored.equals(original)).toBe(true);
  });

  it.each(["NaN", "Infinity", "-Infinity"])(
    "keeps the Decimal %s (Postgres numeric allows it) a Decimal of that value",
    (text) => {
      const restored = roundTrip({ balance: new Decimal(text) }).balance;
      expect(restored).toBeInstanceOf(Decimal);
      expect(restored.toString()).toBe(text);
    },
  );

  it("keeps a BigInt a BigInt, beyond 2^53", () => {
    const visits = 2n ** 63n - 1n;
    expect(roundTrip({ visits })).toEqual({ visits });
    expect(typeof roundTrip({ visits }).visits).toBe("bigint");
  });

  it("keeps a Date a Date, to the millisecond", () => {
    const createdAt = new Date("2024-02-29T23:59:59.999Z");
    const restored = roundTrip({ createdAt }).createdAt;
    expect(restored).toBeInstanceOf(Date);
    expect(restored.getTime()).toBe(createdAt.getTime());
  });

  it("keeps bytes as a Uint8Array with the same contents", () => {
    const avatar = Uint8Array.from([0, 1, 127, 128, 255]);
    const restored = roundTrip({ avatar }).avatar;
    expect(Object.getPrototypeOf(restored)).toBe(Uint8Array.prototype);
    expect([...restored]).toEqual([...avatar]);
    expect(roundTrip(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  it("turns a Buffer (also a view into a larger buffer) into a plain Uint8Array of the same bytes", () => {
    const view = Buffer.from([9, 1, 2, 3, 9]).subarray(1, 4);
    const restored = roundTrip({ avatar: view }).avatar;
    expect(Buffer.isBuffer(restored)).toBe(false);
    expect(Object.getPrototypeOf(restored)).toBe(Uint8Array.prototype);
    expect([...restored]).toEqual([1, 2, 3]);
  });

  it("keeps nested Json values as plain JSON, including look-alike strings", () => {
    const settings = {
      theme: "dark",
      nested: { list: [1, "two", { three: [true, false, null] }], empty: {}, none: [] },
      lookAlikes: ["2024-01-01T00:00:00.000Z", "1n", "12.34", "AQI="],
      unicode: 'é|"\\\u0000',
    };
    const restored = roundTrip({ settings }).settings;
    expect(restored).toEqual(settings);
    expect(restored.lookAlikes.every((item) => typeof item === "string")).toBe(true);
  });

  it("keeps null, and keeps undefined fields present as undefined", () => {
    expect(roundTrip(null)).toBeNull();
    const restored = roundTrip({ name: null, bio: undefined, id: 1 });
    expect(restored).toStrictEqual({ name: null, bio: undefined, id: 1 });
    expect(Object.keys(restored)).toEqual(["name", "bio", "id"]);
  });

  it("round-trips a full row with every scalar type, and a list of rows", () => {
    const row = {
      id: 1,
      email: "a@example.com",
      name: null,
      role: "ADMIN",
      createdAt: new Date(1_700_000_000_123),
      balance: new Decimal("1000000000000000000.01"),
      visits: 12345678901234567890n,
      avatar: Uint8Array.from([1, 2, 3]),
      settings: { a: [1, { b: null }] },
      rating: 4.5,
      published: false,
      posts: [{ id: 2, publishedAt: new Date(0), tags: [] }],
    };
    const restored = roundTrip([row, { ...row, id: 2 }]);
    expect(restored).toEqual([row, { ...row, id: 2 }]);
    expect(restored[0]?.balance).toBeInstanceOf(Decimal);
    expect(restored[1]?.posts[0]?.publishedAt).toBeInstanceOf(Date);
  });

  it("round-trips Json values with own __proto__, constructor and prototype keys without polluting prototypes", () => {
    // superjson refuses such keys; the serializer renames them behind a marker and restores them.
    const settings = JSON.parse(
      '{"__proto__": {"admin": true}, "constructor": "c", "nested": [{"prototype": 1}], "\\u0001pqc:x": 2, "a": 1}',
    ) as Record<string, unknown>;
    const restored = deserialize<{ id: number; settings: Record<string, unknown> }>(
      serialize({ id: 1, settings, at: new Date(0) }),
    );
    expect(Object.getPrototypeOf(restored.settings)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(restored.settings, "__proto__")?.value).toEqual({ admin: true });
    expect(restored.settings.constructor).toBe("c");
    expect(restored.settings.nested).toEqual([{ prototype: 1 }]);
    expect(restored.settings).toEqual(settings);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it("leaves ordinary payloads unmarked, so the common path never pays for the key walk", () => {
    expect(serialize({ a: 1 }).startsWith("~")).toBe(false);
  });
});

describe("findUnrepresentable: what superjson would drop or flatten without throwing", () => {
  class Report {
    total = 3;
  }

  it("finds functions, symbols, unknown class instances and Errors, with their path", () => {
    expect(findUnrepresentable({ total: 3, render: () => "" })).toEqual({ what: "a function", path: ".render" });
    expect(findUnrepresentable([1, { tags: ["a", Symbol("b")] }])).toEqual({ what: "a symbol", path: "[1].tags[1]" });
    expect(findUnrepresentable({ report: new Report() })).toEqual({ what: "an instance of Report", path: ".report" });
    expect(findUnrepresentable(new Map([["k", { f: () => 1 }]]))).toEqual({ what: "a function", path: "<in a Map>.f" });
    expect(findUnrepresentable({ failure: new TypeError("x") })).toEqual({
      what: "an instance of TypeError",
      path: ".failure",
    });
    expect(findUnrepresentable(() => 1)).toEqual({ what: "a function", path: "" });
  });

  it("accepts what round-trips: plain data, Date, BigInt, Decimal, bytes and typed arrays, Map, Set, RegExp, URL, null-prototype objects", () => {
    const value = {
      n: Number.NaN,
      u: undefined,
      b: 1n,
      d: new Date(0),
      m: new Decimal("NaN"),
      y: new Uint8Array(2),
      f: new Float64Array(1),
      map: new Map([[1, { a: [1] }]]),
      set: new Set(["x"]),
      r: /a/g,
      url: new URL("http://x/"),
      bare: Object.create(null) as object,
      list: [null, "s", true],
    };
    expect(findUnrepresentable(value)).toBeUndefined();
    // And each of them does round-trip, which is why they are accepted.
    expect(roundTrip(value)).toEqual(value);
  });
});
