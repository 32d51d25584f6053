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

const key = (model: string, id: number) => queryKey("ns", model, "findUnique", { where: { id } }, undefined);

/**
 * One window of `WINDOW` counted reads of a shape (`model`, a `findUnique` by id), of which `hits` hit and the rest
 * loaded, each load taking `loadMs` of database time within `totalMs`. The first time a shape is read, each key is
 * first read once (a miss, not counted): its keys then come back half the time in that window, every time after.
 * Returns the shape's report afterwards.
 */
function window(admission: Admission, model: string, hits: number, loadMs: number, totalMs: number) {
  if (!admission.report().some((shape) => shape.shape.startsWith(`${model}|`)))
    for (let i = 0; i < WINDOW; i++) {
      const state = admission.decide(key(model, i));
      if (state === NOT_ADMITTED || state === undefined) throw new Error("expected an admitted, measured shape");
      admission.record(state, false, admission.lastWasRepeat, { loadMs, totalMs });
    }
  for (let i = 0; i < WINDOW; i++) {
    const state = admission.decide(key(model, i));
    if (state === NOT_ADMITTED || state === undefined) throw new Error("expected an admitted, measured shape");
    const hit = i < hits;
    admission.record(state, hit, admission.lastWasRepeat, hit ? undefined : { loadMs, totalMs });
  }
  return admission.report().find((shape) => shape.shape.startsWith(`${model}|`));
}

describe("automatic admission: the break-even hit ratio", () => {
  it("takes out a cheap shape whose hits do not pay for its misses, though above minHitRatio", () => {
    const admission = new Admission(settings, { now: () => 1_000 });
    // A primary-key lookup: 0.4 ms in the database, the miss path adds 0.3 ms: worth it from 3/7 = 43 % hits.
    // Its keys came back half the time, and 30 % of the repeats hit: 15 % of its reads.
    const report = window(admission, "User", 3, 0.4, 0.7);
    expect(report?.breakEvenHitRatio).toBeCloseTo(0.3 / 0.7, 6);
    expect(report?.expectedHitRatio).toBeCloseTo(0.15, 6);
    expect(report).toMatchObject({ admitted: false, lastHitRatio: 0.3, failedWindows: 1 });
  });

  it("keeps a slow shape at the same hit ratio: each hit saves far more than a miss adds", () => {
    const admission = new Admission(settings, { now: () => 1_000 });
    // A 10 ms list query with the same 0.3 ms of overhead: worth it from 2.9 % hits.
    const report = window(admission, "Post", 3, 10, 10.3);
    expect(report?.breakEvenHitRatio).toBeCloseTo(0.3 / 10.3, 6);
    expect(report).toMatchObject({ admitted: true, lastHitRatio: 0.3, failedWindows: 0 });
  });

  it("holds first reads against a shape: repeats that always hit do not keep it if its keys rarely come back", () => {
    const admission = new Admission(settings, { now: () => 1_000 });
    // Per round, 4 keys read once and 1 read three times (a miss, then two hits): 10 of 35 reads come back, and every
    // repeat hits. 1 ms in the database, 0.5 ms added by a miss: the bar is 0.5 / 1.5 = 33 %.
    let id = 0;
    for (let round = 0; round < 5; round++) {
      for (let once = 0; once < 4; once++) {
        const state = admission.decide(key("Tag", 1_000 + id++));
        if (state === NOT_ADMITTED || state === undefined) throw new Error("expected an admitted shape");
        admission.record(state, false, admission.lastWasRepeat, { loadMs: 1, totalMs: 1.5 });
      }
      for (const hit of [false, true, true]) {
        const state = admission.decide(key("Tag", round));
        if (state === NOT_ADMITTED || state === undefined) throw new Error("expected an admitted shape");
        admission.record(state, hit, admission.lastWasRepeat, hit ? undefined : { loadMs: 1, totalMs: 1.5 });
      }
    }
    const report = admission.report()[0];
    expect(report?.lastHitRatio, "over repeats only, as before").toBe(1);
    expect(report?.expectedHitRatio).toBeCloseTo(10 / 35, 6);
    expect(report?.breakEvenHitRatio).toBeCloseTo(1 / 3, 6);
    // Judged on repeats alone it would have stayed (1 against 0.33); per read it saves less than its misses cost.
    expect(report).toMatchObject({ admitted: false, failedWindows: 1 });
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
    // Half its reads repeat, and 90 % of those hit: 45 %, over the bar of 0.43.
    expect(window(admission, "User", 9, 0.4, 0.7)).toMatchObject({ admitted: true, lastHitRatio: 0.9 });
    // All hits: nothing learnt about misses; the bar stays 0.43.
    expect(window(admission, "User", WINDOW, 0, 0)?.breakEvenHitRatio).toBeCloseTo(0.3 / 0.7, 6);
    const out = window(admission, "User", 4, 0.4, 0.7);
    expect(out).toMatchObject({ admitted: false, lastHitRatio: 0.4 });
    now = (out?.retryAt ?? 0) + 1; // after retryAfter: measured again
    expect(admission.decide(key("User", 1))).not.toBe(NOT_ADMITTED);
  });

  it("in a trial, a key read while the shape was out is a first read: its miss is not counted against the shape", () => {
    let now = 1_000;
    const admission = new Admission(settings, { now: () => now });
    const out = window(admission, "User", 0, 0.4, 0.7);
    expect(out).toMatchObject({ admitted: false });
    // While out, the app reads keys 100..109: plain queries, nothing cached.
    for (let id = 100; id < 110; id++) expect(admission.decide(key("User", id))).toBe(NOT_ADMITTED);
    now = (out?.retryAt ?? 0) + 1;
    // The trial: each key's first read misses (no entry: the shape was out) and is not counted; its next read hits.
    for (let id = 100; id < 110; id++) {
      for (const hit of [false, true]) {
        const state = admission.decide(key("User", id));
        if (state === NOT_ADMITTED || state === undefined) throw new Error("expected a trial read");
        admission.record(state, hit, admission.lastWasRepeat, hit ? undefined : { loadMs: 10, totalMs: 10.3 });
      }
    }
    expect(admission.report()[0]).toMatchObject({ admitted: true, lastHitRatio: 1, failedWindows: 0 });
  });
});
