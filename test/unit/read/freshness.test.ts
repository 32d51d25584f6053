/**
 * The expiry ramp as a pure function (src/read/freshness.ts): an entry's
 * state at a given time, and the times a new entry is stored with, on
 * explicit times and a fixed random source (nothing waits for a ttl).
 */
import { describe, expect, it } from "vitest";
import type { ResolvedExpiry } from "../../../src/options/resolve.ts";
import { freshnessOf, lifetimeOf } from "../../../src/read/freshness.ts";
import type { Entry } from "../../../src/tiers/entry.ts";

const NOW = 1_700_000_000_000;

const expiry = (overrides: Partial<ResolvedExpiry> = {}): ResolvedExpiry => ({
  ttlMs: 10_000,
  negativeTtlMs: 2_000,
  swrMs: 20_000,
  jitter: 0,
  earlyRefresh: 0,
  staleIfInvalidated: false,
  ...overrides,
});

const entry = (staleAt: number, loadMs = 5): Entry => ({
  value: { name: "v1" },
  storedAt: staleAt - 10_000,
  staleAt,
  expiresAt: staleAt + 20_000,
  loadMs,
  tags: ["r:User:1"],
  versions: [1],
});

/** A random source that must not be drawn from. */
const never = (): number => {
  throw new Error("drew a random number");
};

describe("freshnessOf", () => {
  it("an entry is fresh before its ttl, stale within the reader's swr window after it, dead from then on", () => {
    const e = entry(NOW);
    expect(freshnessOf(e, true, NOW - 1, expiry(), never)).toBe("fresh");
    expect(freshnessOf(e, true, NOW, expiry(), never)).toBe("stale");
    expect(freshnessOf(e, true, NOW + 19_999, expiry(), never)).toBe("stale");
    expect(freshnessOf(e, true, NOW + 20_000, expiry(), never)).toBe("dead");
  });

  it("the reader's own swr bounds how stale it accepts", () => {
    const e = entry(NOW);
    expect(freshnessOf(e, true, NOW + 5_000, expiry({ swrMs: 5_000 }), never)).toBe("dead");
    expect(freshnessOf(e, true, NOW, expiry({ swrMs: 0 }), never)).toBe("dead");
  });

  it("an invalidated entry is dead, fresh or not, unless the reader opted into staleIfInvalidated", () => {
    const e = entry(NOW + 5_000);
    expect(freshnessOf(e, false, NOW, expiry(), never)).toBe("dead");
    expect(freshnessOf(e, false, NOW, expiry({ staleIfInvalidated: true }), never)).toBe("stale");
  });

  it("XFetch: refreshes early when now - loadMs * beta * ln(random) reaches the ttl's end", () => {
    // loadMs 100, beta 1: ln(0.5) = -0.69 brings now forward by 69 ms; ln(0.001) = -6.9 by 691 ms.
    const e = entry(NOW + 500, 100);
    const early = expiry({ earlyRefresh: 1 });
    expect(freshnessOf(e, true, NOW, early, () => 0.5)).toBe("fresh");
    expect(freshnessOf(e, true, NOW, early, () => 0.001)).toBe("refresh");
    expect(freshnessOf(e, true, NOW + 450, early, () => 0.5)).toBe("refresh");
  });

  it("XFetch weighs the load time: a slow load refreshes sooner than a fast one on the same draw", () => {
    const early = expiry({ earlyRefresh: 1 });
    expect(freshnessOf(entry(NOW + 500, 1_000), true, NOW, early, () => 0.5)).toBe("refresh");
    expect(freshnessOf(entry(NOW + 500, 10), true, NOW, early, () => 0.5)).toBe("fresh");
  });

  it("without earlyRefresh no random number is drawn", () => {
    expect(freshnessOf(entry(NOW + 1), true, NOW, expiry(), never)).toBe("fresh");
  });
});

describe("lifetimeOf", () => {
  it("stores for the ttl, then the swr window; a negative result for its own ttl", () => {
    expect(lifetimeOf(expiry(), false, NOW, never)).toEqual({ staleAt: NOW + 10_000, expiresAt: NOW + 30_000 });
    expect(lifetimeOf(expiry(), true, NOW, never)).toEqual({ staleAt: NOW + 2_000, expiresAt: NOW + 22_000 });
  });

  it("a ttl of 0 stores nothing", () => {
    expect(lifetimeOf(expiry({ ttlMs: 0 }), false, NOW, never)).toBeUndefined();
    expect(lifetimeOf(expiry({ negativeTtlMs: 0 }), true, NOW, never)).toBeUndefined();
  });

  it("jitter shortens the ttl by up to its fraction, never lengthens it", () => {
    const jittered = expiry({ jitter: 0.2 });
    expect(lifetimeOf(jittered, false, NOW, () => 0)?.staleAt).toBe(NOW + 10_000);
    expect(lifetimeOf(jittered, false, NOW, () => 0.5)?.staleAt).toBe(NOW + 9_000);
    expect(lifetimeOf(jittered, false, NOW, () => 0.999_999)?.staleAt).toBe(NOW + 8_000);
    expect(lifetimeOf(jittered, false, NOW, () => 0.5)?.expiresAt, "the swr window follows the jittered ttl").toBe(
      NOW + 29_000,
    );
  });

  it("a jittered ttl is at least 1 ms", () => {
    expect(lifetimeOf(expiry({ ttlMs: 1, jitter: 1 }), false, NOW, () => 0.999)?.staleAt).toBe(NOW + 1);
  });
});
