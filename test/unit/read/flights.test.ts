/**
 * Single-flight in one process (src/read/flights.ts): who may join a load in
 * progress, what each caller receives, and when a flight leaves the table.
 * Loads are promises the test settles by hand.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Flights, sameVersions } from "../../../src/read/flights.ts";

/** A load the test settles by hand. */
function load<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("Flights", () => {
  it("a read under the same versions joins the flight and gets its own copy; the starter gets the value itself", async () => {
    const flights = new Flights();
    const loading = load<{ name: string }>();
    const started = flights.start("k", [1, 2], loading.promise);
    const joined = flights.join("k", [1, 2]);
    expect(joined).toBeDefined();
    const value = { name: "v1" };
    loading.resolve(value);
    expect(await started).toBe(value);
    const copy = await joined;
    expect(copy).toEqual({ name: "v1" });
    expect(copy).not.toBe(value);
  });

  it("the joiner's copy is taken before the starter can change the value", async () => {
    const flights = new Flights();
    const loading = load<{ name: string }>();
    const started = flights.start("k", [1], loading.promise).then((value) => {
      value.name = "changed by the starter";
      return value;
    });
    const joined = flights.join("k", [1]);
    loading.resolve({ name: "v1" });
    await started;
    expect(await joined).toEqual({ name: "v1" });
  });

  it("a load nobody joined is not copied (the copy is for joiners only); a joined one is", async () => {
    const flights = new Flights();
    /** A result that counts how often it is walked (a copy reads each property). */
    const counted = () => {
      const reads = { count: 0 };
      const value = {};
      Object.defineProperty(value, "name", { enumerable: true, get: () => (reads.count++, "v1") });
      return { value, reads };
    };
    const alone = counted();
    const lonely = load<object>();
    const started = flights.start("a", [1], lonely.promise);
    lonely.resolve(alone.value);
    expect(await started).toBe(alone.value);
    await Promise.resolve();
    expect(alone.reads.count, "no copy of a load nobody joined").toBe(0);

    const shared = counted();
    const joinedLoad = load<object>();
    const starter = flights.start("b", [1], joinedLoad.promise);
    const joiner = flights.join("b", [1]);
    joinedLoad.resolve(shared.value);
    await starter;
    expect(await joiner).toEqual({ name: "v1" });
    expect(shared.reads.count).toBeGreaterThan(0);
  });

  it("a read under other versions (a write resolved since the load started) does not join", () => {
    const flights = new Flights();
    void flights.start("k", [1, 2], load().promise);
    expect(flights.join("k", [1, 3])).toBeUndefined();
    expect(flights.join("k", [1])).toBeUndefined();
    expect(flights.join("other", [1, 2])).toBeUndefined();
  });

  it("a flight leaves the table when it settles; an error is shared by those waiting and not kept", async () => {
    const flights = new Flights();
    const loading = load<string>();
    const started = flights.start("k", [1], loading.promise);
    const joined = flights.join("k", [1]);
    expect(flights.has("k")).toBe(true);
    loading.reject(new Error("database down"));
    await expect(started).rejects.toThrow("database down");
    await expect(joined).rejects.toThrow("database down");
    expect(flights.has("k")).toBe(false);
    expect(flights.join("k", [1]), "the next read starts a load of its own").toBeUndefined();
  });

  it("a newer flight of the key is not removed when an older one settles", async () => {
    const flights = new Flights();
    const older = load<string>();
    const olderStarted = flights.start("k", [1], older.promise);
    const newer = load<string>();
    void flights.start("k", [2], newer.promise);
    older.resolve("old");
    await olderStarted;
    expect(flights.has("k")).toBe(true);
    expect(flights.join("k", [2])).toBeDefined();
  });

  it("tables are per instance: another Flights never sees this one's loads", () => {
    const a = new Flights();
    void a.start("k", [1], load().promise);
    expect(new Flights().join("k", [1])).toBeUndefined();
  });
});

describe("sameVersions", () => {
  it("compares lengths and every position", () => {
    expect(sameVersions([], [])).toBe(true);
    expect(sameVersions([1, 2], [1, 2])).toBe(true);
    expect(sameVersions([1, 2], [2, 1])).toBe(false);
    expect(sameVersions([1], [1, 2])).toBe(false);
  });
});

describe("Flights: reads without captured versions (joinBegunSince)", () => {
  afterEach(() => vi.useRealTimers());

  it("join only a load without versions that began at or after the read began", async () => {
    const flights = new Flights();
    const before = performance.now();
    const loading = load<{ n: number }>();
    flights.start("k", undefined, loading.promise);
    const after = performance.now() + 1;
    expect(flights.joinBegunSince("k", before), "began before the load: joins").toBeDefined();
    expect(flights.joinBegunSince("k", after), "began after the load started: must load itself").toBeUndefined();
    loading.resolve({ n: 1 });
    await loading.promise;
  });

  it("never join a load that carries versions (with the lock it may serve another process's older entry)", () => {
    const flights = new Flights(1_000);
    const before = performance.now();
    flights.start("k", [1, 2], load<number>().promise);
    expect(flights.joinBegunSince("k", before)).toBeUndefined();
  });

  it("a landed load without versions stays joinable for keepLandedMs, as a copy, then is forgotten", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const flights = new Flights(300);
    const began = performance.now();
    const loading = load<{ n: number }>();
    const started = flights.start("k", undefined, loading.promise);
    const value = { n: 1 };
    loading.resolve(value);
    expect(await started).toBe(value);
    const late = flights.joinBegunSince("k", began);
    expect(late, "a later wave of the same burst").toBeDefined();
    const copy = await late;
    expect(copy).toEqual({ n: 1 });
    expect(copy).not.toBe(value);
    vi.advanceTimersByTime(300);
    expect(flights.joinBegunSince("k", began), "after keepLandedMs").toBeUndefined();
  });

  it("a failed load without versions is not kept: errors are never cached", async () => {
    const flights = new Flights(1_000);
    const began = performance.now();
    const loading = load<number>();
    const started = flights.start("k", undefined, loading.promise);
    loading.reject(new Error("database down"));
    await expect(started).rejects.toThrow("database down");
    expect(flights.joinBegunSince("k", began)).toBeUndefined();
  });

  it("without keepLandedMs (no Redis), nothing is kept once a load lands", async () => {
    const flights = new Flights();
    const began = performance.now();
    const loading = load<number>();
    flights.start("k", undefined, loading.promise);
    loading.resolve(1);
    await loading.promise;
    await Promise.resolve();
    expect(flights.joinBegunSince("k", began)).toBeUndefined();
  });
});
