/**
 * The advisor's bookkeeping on its own (no database): which repeats are
 * would-be hits, what invalidations and resets do, the suggested ttl.
 */
import { describe, expect, it } from "vitest";
import { Advisor } from "../../../src/advisor/advisor.js";
import { AgeHistogram } from "../../../src/advisor/age-histogram.js";
import { adviceFor } from "../../../src/advisor/advisor-report.js";
import type { CacheError } from "../../../src/errors.js";

function advisorAt(settings: Partial<{ sample: number; maxShapes: number; maxKeys: number }> = {}) {
  const clock = { now: 0 };
  const reported: CacheError[] = [];
  const advisor = new Advisor(
    { sample: 1, maxShapes: 10, maxKeys: 10, ...settings },
    () => clock.now,
    (error) => reported.push(error),
    0.3,
  );
  const read = (key: string, tags: readonly string[]) =>
    advisor.observe("User", "findUnique", `User|findUnique|{"where":{"id":${key}}}|`, () => tags, Promise.resolve({}));
  return { advisor, clock, read, reported };
}

describe("Advisor", () => {
  it("a repeat is a would-be hit until one of its tags is bumped; a bump of another tag changes nothing", async () => {
    const { advisor, read } = advisorAt();
    await read("1", ["a", "b"]);
    await read("1", ["a", "b"]);
    advisor.invalidated("c");
    await read("1", ["a", "b"]);
    advisor.invalidated("b");
    await read("1", ["a", "b"]);
    await read("1", ["a", "b"]);
    expect(advisor.report().rows[0]).toMatchObject({ reads: 5, wouldHit: 3, invalidated: 1 });
  });

  it("a bump while the first read runs kills its fill (versions are taken before the database answers)", async () => {
    const { advisor } = advisorAt();
    let answer!: (value: unknown) => void;
    const running = advisor.observe("User", "findMany", "k", () => ["t"], new Promise((resolve) => (answer = resolve)));
    advisor.invalidated("t");
    answer([]);
    await running;
    await advisor.observe("User", "findMany", "k", () => ["t"], Promise.resolve([]));
    expect(advisor.report().rows[0]).toMatchObject({ reads: 2, wouldHit: 0, invalidated: 1 });
  });

  it("a reset kills every fill made before it", async () => {
    const { advisor, read } = advisorAt();
    await read("1", ["a"]);
    advisor.reset();
    await read("1", ["a"]);
    await read("1", ["a"]);
    expect(advisor.report().rows[0]).toMatchObject({ reads: 3, wouldHit: 1, invalidated: 1 });
  });

  it("the suggested ttl is the shortest step that 90% of the hits' ages fit under", async () => {
    const { advisor, clock, read } = advisorAt();
    await read("1", []);
    for (let i = 0; i < 9; i++) {
      clock.now += 500;
      await read("1", []); // ages 0.5 .. 4.5 s
    }
    clock.now = 50_000;
    await read("1", []); // one outlier at 50 s
    expect(advisor.report().rows[0]?.suggestedTtlMs).toBe(5_000);
  });

  it("a failure to observe is reported (E_ADVISOR), never seen by the read, which resolves with its result", async () => {
    const { advisor, reported } = advisorAt();
    const row = { id: 1 };
    const failingTags = () => {
      throw new Error("tags");
    };
    await expect(advisor.observe("User", "findUnique", "k", failingTags, Promise.resolve(row))).resolves.toBe(row);
    // A result whose size cannot be estimated (a getter that throws).
    const hostile = Object.defineProperty({}, "x", {
      enumerable: true,
      get() {
        throw new Error("size");
      },
    });
    await expect(advisor.observe("User", "findMany", "k2", () => [], Promise.resolve(hostile))).resolves.toBe(hostile);
    expect(reported.map((error) => error.code)).toEqual(["E_ADVISOR", "E_ADVISOR"]);
    expect(reported[0]?.message).toContain("User.findUnique");
    // A rejected read rejects with its own error.
    const failure = new Error("database");
    await expect(advisor.observe("User", "findFirst", "k3", () => [], Promise.reject(failure))).rejects.toBe(failure);
  });

  it("sampling by key hash answers the same for every read of a key", () => {
    const { advisor } = advisorAt({ sample: 0.3 });
    const keys = Array.from({ length: 1000 }, (_, i) => `User|findUnique|{"where":{"id":${i}}}|`);
    const first = keys.map((key) => advisor.samples(key));
    expect(keys.map((key) => advisor.samples(key))).toEqual(first);
    const share = first.filter(Boolean).length / keys.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
  });
});

describe("AgeHistogram and advice", () => {
  it("reports nothing before any age, and caps ages past a day at a day", () => {
    const ages = new AgeHistogram();
    expect(ages.coverage(0.9)).toBeUndefined();
    ages.record(10 * 86_400_000);
    expect(ages.coverage(0.9)).toBe(86_400_000);
  });

  it("advises against the break-even hit ratio once there are enough reads", () => {
    expect(adviceFor(5, 1, 0.2)).toBe("wait");
    expect(adviceFor(100, 0.35, 0.2)).toBe("cache");
    expect(adviceFor(100, 0.25, 0.2)).toBe("maybe");
    expect(adviceFor(100, 0.15, 0.2)).toBe("skip");
  });

  it("the break-even is O / (dbMs + O), and net time counts what the misses would add", async () => {
    const { advisor, read } = advisorAt();
    await read("1", []);
    await read("1", []);
    const row = advisor.report().rows[0];
    expect(row?.breakEvenHitRatio).toBeCloseTo(0.3 / ((row?.dbMs ?? 0) + 0.3), 9);
    expect(row?.netMs).toBeCloseTo((row?.dbMs ?? 0) - 0.3, 9);
    expect(advisor.report().missOverheadMs).toBe(0.3);
  });
});
