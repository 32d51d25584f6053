/**
 * How often Redis answered lately (src/read/hit-rate.ts): an exponentially
 * weighted rate that starts high, and the probe that keeps asking Redis now
 * and then while it is low.
 */
import { describe, expect, it } from "vitest";
import { HitRate } from "../../../src/read/hit-rate.ts";

describe("HitRate", () => {
  it("starts high: a fresh instance asks Redis first", () => {
    expect(new HitRate().low()).toBe(false);
  });

  it("turns low after enough misses (0.9^n below 0.2: 16 misses), and high again after hits", () => {
    const rate = new HitRate();
    for (let i = 0; i < 15; i++) rate.record(false);
    expect(rate.low(), "0.9^15 = 0.21").toBe(false);
    rate.record(false);
    expect(rate.low(), "0.9^16 = 0.19").toBe(true);
    rate.record(true);
    expect(rate.low(), "0.9 * 0.19 + 0.1 = 0.27").toBe(false);
  });

  it("weighs recent outcomes most: one hit among many misses does not keep it high", () => {
    const rate = new HitRate();
    for (let i = 0; i < 30; i++) rate.record(false);
    rate.record(true);
    expect(rate.low(), "0.9 * 0.04 + 0.1 = 0.14").toBe(true);
    rate.record(true);
    expect(rate.low(), "0.9 * 0.14 + 0.1 = 0.23").toBe(false);
  });

  it("probes on one call in eight", () => {
    const rate = new HitRate();
    const probes = Array.from({ length: 24 }, () => rate.probe());
    expect(probes.map((probe, i) => (probe ? i + 1 : 0)).filter(Boolean)).toEqual([8, 16, 24]);
  });
});
