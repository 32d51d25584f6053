/**
 * Automatic admission's bar (src/read/admission.ts): a shape stays cached
 * while its hit ratio reaches `minHitRatio` and its break-even hit ratio,
 * `O / (U + O)` from the reads that loaded (U: their database time, O: what
 * the miss path added). The timings are given here, so the arithmetic is
 * checked exactly; admission.test.ts checks them measured on real reads.
 */
import { describe, expect, it } from "vitest";
import { Admission, NOT_ADMITTED } from "../../../src/read/admission.ts";
import { queryKey } from "../../../src/keys/query-key.ts";

const WINDOW = 10;
const settings = { minHitRatio: 0.1, window: WINDOW, retryAfterMs: 60_000 };

/**
 * One window of `WINDOW` counted reads of a shape (`model`, a `findUnique` by id), of which `hits` hit and the rest
 * loaded, each load taking `loadMs` of database time within `totalMs`. Returns the shape's report afterwards.
 */
function window(admission: Admission, model: string, hits: number, loadMs: number, totalMs: number) {
  for (let i = 0; i < WINDOW; i++) {
    const state = admission.decide(queryKey("ns", model, "findUnique", { where: { id: i } }, undefined));
    if (state === NOT_ADMITTED || state === undefined) throw new Error("expected an admitted, measured shape");
    const hit = i < hits;
    // `repeat: true`: every read counts (a key read before), so the window is exactly these reads.
    admission.record(state, hit, true, hit ? undefined : { loadMs, totalMs });
  }
  return admission.report().find((shape) => shape.shape.startsWith(`${model}|`));
}

describe("automatic admission: the break-even hit ratio", () => {
  it("takes out a cheap shape whose hits do not pay for its misses, though above minHitRatio", () => {
    const admission = new Admission(settings, { now: () => 1_000 });
    // A primary-key lookup: 0.4 ms in the database, the miss path adds 0.3 ms: worth it from 3/7 = 43 % hits.
    const report = window(admission, "User", 3, 0.4, 0.7);
    expect(report?.breakEvenHitRatio).toBeCloseTo(0.3 / 0.7, 6);
    expect(report).toMatchObject({ admitted: false, lastHitRatio: 0.3, failedWindows: 1 });
  });

  it("keeps a slow shape at the same hit ratio: each hit saves far more than a miss adds", () => {
    const admission = new Admission(settings, { now: () => 1_000 });
    // A 10 ms list query with the same 0.3 ms of overhead: worth it from 2.9 % hits.
    const report = window(admission, "Post", 3, 10, 10.3);
    expect(report?.breakEvenHitRatio).toBeCloseTo(0.3 / 10.3, 6);
    expect(report).toMatchObject({ admitted: true, lastHitRatio: 0.3, failedWindows: 0 });
  });

  it("still takes out a shape below minHitRatio, however cheap its misses", () => {
    const admission = new Admission(settings, { now: () => 1_000 });
    const report = window(admission, "Post", 0, 10, 10.01);
    expect(report?.breakEvenHitRatio).toBeLessThan(0.01);
    expect(report).toMatchObject({ admitted: false, lastHitRatio: 0 });
  });

  it("keeps the last break-even through a window without loads, and judges the next window by it", () => {
    let now = 1_000;
    const admission = new Admission(settings, { now: () => now });
    expect(window(admission, "User", 5, 0.4, 0.7)).toMatchObject({ admitted: true, lastHitRatio: 0.5 });
    // All hits: nothing learnt about misses; the bar stays 0.43.
    expect(window(admission, "User", WINDOW, 0, 0)?.breakEvenHitRatio).toBeCloseTo(0.3 / 0.7, 6);
    const out = window(admission, "User", 4, 0.4, 0.7);
    expect(out).toMatchObject({ admitted: false, lastHitRatio: 0.4 });
    now = (out?.retryAt ?? 0) + 1; // after retryAfter: measured again
    expect(admission.decide(queryKey("ns", "User", "findUnique", { where: { id: 1 } }, undefined))).not.toBe(
      NOT_ADMITTED,
    );
  });

  it("in a trial, a key read while the shape was out is a first read: its miss is not counted against the shape", () => {
    let now = 1_000;
    const admission = new Admission(settings, { now: () => now });
    const key = (id: number) => queryKey("ns", "User", "findUnique", { where: { id } }, undefined);
    const out = window(admission, "User", 0, 0.4, 0.7);
    expect(out).toMatchObject({ admitted: false });
    // While out, the app reads keys 100..109: plain queries, nothing cached.
    for (let id = 100; id < 110; id++) expect(admission.decide(key(id))).toBe(NOT_ADMITTED);
    now = (out?.retryAt ?? 0) + 1;
    // The trial: each key's first read misses (no entry: the shape was out) and is not counted; its next read hits.
    for (let id = 100; id < 110; id++) {
      for (const hit of [false, true]) {
        const state = admission.decide(key(id));
        if (state === NOT_ADMITTED || state === undefined) throw new Error("expected a trial read");
        admission.record(state, hit, admission.lastWasRepeat, hit ? undefined : { loadMs: 10, totalMs: 10.3 });
      }
    }
    expect(admission.report()[0]).toMatchObject({ admitted: true, lastHitRatio: 1, failedWindows: 0 });
  });
});
