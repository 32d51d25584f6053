/** The in-process tier: expiry against an injected `now`, and its entry and size bounds. */
import { Decimal } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { estimateSize } from "../../src/serialize/size-estimate.ts";
import type { Entry } from "../../src/tiers/entry.ts";
import { L1Tier } from "../../src/tiers/l1-tier.ts";

const NO_SIZE_BOUND = Number.MAX_SAFE_INTEGER;
/** The tier reads only `expiresAt` of an entry; the rest of the envelope is the core's. */
const entry = <T>(value: T, expiresAt = Number.MAX_SAFE_INTEGER) => ({ value, storedAt: 0, expiresAt }) as Entry<T>;
const put = (tier: L1Tier, key: string, value: unknown, expiresAt?: number) =>
  tier.set(key, entry(value, expiresAt), estimateSize(value));
const keysHeld = (tier: L1Tier, keys: readonly string[], now = 0) =>
  keys.filter((key) => tier.get(key, now) !== undefined);

describe("L1Tier expiry", () => {
  it("returns an entry until its expiresAt, and never at or after it", () => {
    const tier = new L1Tier({ maxSize: NO_SIZE_BOUND, maxEntries: undefined });
    put(tier, "k", { id: 1 }, 1_000);
    expect(tier.get("k", 0)?.value).toEqual({ id: 1 });
    expect(tier.get("k", 999)?.value).toEqual({ id: 1 });
    expect(tier.get("k", 1_000)).toBeUndefined();
  });

  it("drops an expired entry when it sees it", () => {
    const tier = new L1Tier({ maxSize: NO_SIZE_BOUND, maxEntries: undefined });
    put(tier, "k", "v", 1_000);
    expect(tier.get("k", 5_000)).toBeUndefined();
    expect(tier.size).toBe(0);
    expect(tier.get("k", 0)).toBeUndefined();
  });

  it("delete and clear drop entries and their bytes", () => {
    const tier = new L1Tier({ maxSize: NO_SIZE_BOUND, maxEntries: undefined });
    put(tier, "a", "1");
    put(tier, "b", "2");
    tier.delete("a");
    expect(keysHeld(tier, ["a", "b"])).toEqual(["b"]);
    tier.clear();
    expect(tier.size).toBe(0);
    expect(tier.bytes).toBe(0);
  });
});

describe("L1Tier bounds", () => {
  it("maxEntries evicts the least recently used entry", () => {
    const tier = new L1Tier({ maxSize: NO_SIZE_BOUND, maxEntries: 2 });
    put(tier, "a", 1);
    put(tier, "b", 2);
    tier.get("a", 0); // a is now more recently used than b
    put(tier, "c", 3);
    expect(tier.size).toBe(2);
    expect(keysHeld(tier, ["a", "b", "c"])).toEqual(["a", "c"]);
  });

  it("maxSize evicts least recently used entries by estimated size, and never holds more than the bound", () => {
    const value = "x".repeat(600);
    const perEntry = estimateSize(value);
    const maxSize = 4 * 1024;
    const tier = new L1Tier({ maxSize, maxEntries: undefined });
    const keys = ["k0", "k1", "k2", "k3", "k4"];
    for (const key of keys) {
      put(tier, key, value);
      expect(tier.bytes).toBeLessThanOrEqual(maxSize);
    }
    // Each entry counts at least its value's estimate, so fewer than 5 fit in 4 KiB.
    expect(perEntry * keys.length).toBeGreaterThan(maxSize);
    expect(tier.size).toBeLessThan(keys.length);
    expect(tier.size).toBeGreaterThan(0);
    // What is left is the most recent entries.
    expect(keysHeld(tier, keys)).toEqual(keys.slice(keys.length - tier.size));
  });

  it("maxSize weighs big entries more than small ones", () => {
    const tier = new L1Tier({ maxSize: 8 * 1024, maxEntries: undefined });
    for (let i = 0; i < 10; i++) put(tier, `small${i}`, "s");
    expect(tier.size).toBe(10);
    put(tier, "big", "b".repeat(3_500));
    expect(tier.get("big", 0)).toBeDefined();
    expect(tier.size).toBeLessThan(11);
    expect(tier.bytes).toBeLessThanOrEqual(8 * 1024);
  });

  it("reports bytes held, growing with what is stored", () => {
    const tier = new L1Tier({ maxSize: NO_SIZE_BOUND, maxEntries: undefined });
    put(tier, "a", "x");
    const one = tier.bytes;
    expect(one).toBeGreaterThan(estimateSize("x"));
    put(tier, "b", "x".repeat(1_000));
    expect(tier.bytes - one).toBeGreaterThanOrEqual(estimateSize("x".repeat(1_000)));
  });

  it("does not keep an entry larger than the whole bound", () => {
    const tier = new L1Tier({ maxSize: 2 * 1024, maxEntries: undefined });
    put(tier, "small", "s");
    put(tier, "huge", "h".repeat(10_000));
    expect(tier.get("huge", 0)).toBeUndefined();
    expect(tier.bytes).toBeLessThanOrEqual(2 * 1024);
  });
});

describe("L1Tier entries larger than maxSize", () => {
  it("set returns false and holds nothing (lru-cache refuses it silently; the caller reports it), dropping the key's previous entry", () => {
    const tier = new L1Tier({ maxSize: 2_048, maxEntries: undefined });
    expect(put(tier, "k", "small")).toBe(true);
    expect(put(tier, "k", "x".repeat(2_000))).toBe(false);
    expect(tier.get("k", 0)).toBeUndefined();
    expect(tier.size).toBe(0);
  });
});

describe("estimateSize", () => {
  it("grows with string length", () => {
    expect(estimateSize("a".repeat(1_000))).toBeGreaterThan(estimateSize("a".repeat(10)));
    expect(estimateSize("a".repeat(1_000)) - estimateSize("a".repeat(10))).toBeGreaterThanOrEqual(990);
    expect(estimateSize({ bio: "a".repeat(1_000) })).toBeGreaterThan(estimateSize({ bio: "a" }));
  });

  it("grows with rows in a list, fields in a row, bytes and Decimal digits", () => {
    const row = { id: 1, email: "a@example.com" };
    expect(estimateSize([row, row, row])).toBeGreaterThan(estimateSize([row]));
    expect(estimateSize({ ...row, name: "n" })).toBeGreaterThan(estimateSize(row));
    expect(estimateSize(new Uint8Array(4_096))).toBeGreaterThan(estimateSize(new Uint8Array(16)) + 4_000);
    expect(estimateSize(new Decimal("1234567890123456789012345678901234567890"))).toBeGreaterThan(
      estimateSize(new Decimal("1")),
    );
  });

  it("gives every value a positive size", () => {
    for (const value of [null, undefined, 0, true, 1n, "", {}, [], new Date(0)])
      expect(estimateSize(value)).toBeGreaterThan(0);
  });

  it("sizes the Decimals without digits, NaN and ±Infinity (Postgres numeric holds them; decimal.js keeps no digit array for them)", () => {
    for (const text of ["NaN", "Infinity", "-Infinity"]) {
      const size = estimateSize({ balance: new Decimal(text) });
      expect(Number.isFinite(size), text).toBe(true);
      expect(size).toBeGreaterThan(0);
    }
  });
});
