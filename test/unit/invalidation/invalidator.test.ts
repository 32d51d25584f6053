/**
 * Bumping tags (src/invalidation/invalidator.ts) over a version store the
 * test controls: the new versions on success; on failure a report, the tags
 * suspended in the mirror at once, and retries in the background with a
 * doubling delay until the store takes the bump. Time is vitest's fake
 * timers: the retry delays pass without waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CacheError } from "../../../src/errors.ts";
import type { InvalidationBus } from "../../../src/invalidation/bus.ts";
import { Invalidator } from "../../../src/invalidation/invalidator.ts";
import { VersionMirror } from "../../../src/invalidation/version-mirror.ts";
import type { Bumped, VersionStore } from "../../../src/invalidation/version-store.ts";

/** A version store whose bumps fail while `failing` is set, recording each attempt. */
class ScriptedStore implements VersionStore {
  failing = false;
  readonly attempts: string[][] = [];
  readonly #versions = new Map<string, number>();

  read(tags: readonly string[]): Promise<{ entry: string | null; versions: number[] }> {
    return Promise.resolve({ entry: null, versions: tags.map((tag) => this.#versions.get(tag) ?? 0) });
  }

  bump(tags: readonly string[]): Promise<Bumped> {
    this.attempts.push([...tags]);
    if (this.failing) return Promise.reject(new Error("Redis is down"));
    const versions = tags.map((tag) => {
      const next = (this.#versions.get(tag) ?? 0) + 1;
      this.#versions.set(tag, next);
      return next;
    });
    return Promise.resolve({ versions, members: [], leaseLeftMs: 0 });
  }
}

function setUp(bus?: InvalidationBus) {
  const store = new ScriptedStore();
  const mirror = new VersionMirror(() => undefined);
  const reported: CacheError[] = [];
  const invalidator = new Invalidator(store, mirror, bus, (error) => reported.push(error));
  return { store, mirror, reported, invalidator };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Invalidator", () => {
  it("bumps each tag once and resolves with the new versions", async () => {
    const { store, invalidator, reported } = setUp();
    const versions = await invalidator.invalidate(["a", "b", "a"]);
    expect(versions).toEqual(
      new Map([
        ["a", 1],
        ["b", 1],
      ]),
    );
    expect(store.attempts).toEqual([["a", "b"]]);
    expect(invalidator.bumps).toBe(2);
    expect(reported).toEqual([]);
  });

  it("no tags: nothing is sent", async () => {
    const { store, invalidator } = setUp();
    expect(await invalidator.invalidate([])).toEqual(new Map());
    expect(store.attempts).toEqual([]);
  });

  it("a failed bump never fails the write: it is reported, the tags are marked unbumped, and retried until Redis takes it", async () => {
    const { store, mirror, invalidator, reported } = setUp();
    mirror.observe("a", 1);
    store.failing = true;
    expect(await invalidator.invalidate(["a"]), "resolves, without versions").toBeUndefined();
    expect(reported.map((error) => error.code)).toEqual(["E_INVALIDATION"]);
    expect(reported[0]?.message).toContain("retrying in the background");
    expect(mirror.anyUnbumped(["a"]), "served from the database meanwhile").toBe(true);
    expect(mirror.get("a")).toBeUndefined();

    await vi.advanceTimersByTimeAsync(249);
    expect(store.attempts, "first retry after 250 ms").toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(499);
    expect(store.attempts, "then the delay doubles").toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.attempts).toHaveLength(3);

    store.failing = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.attempts).toHaveLength(4);
    expect(mirror.anyUnbumped(["a"]), "trusted again once Redis took the bump").toBe(false);
    expect(reported, "retries are not reported again").toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.attempts, "and no more retries").toHaveLength(4);
  });

  it("the retry delay is capped at 30 s", async () => {
    const { store, invalidator } = setUp();
    store.failing = true;
    await invalidator.invalidate(["a"]);
    // 250, 500, 1 s, 2 s, 4 s, 8 s, 16 s, then 30 s (not 32 s).
    await vi.advanceTimersByTimeAsync(250 + 500 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000);
    expect(store.attempts).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(store.attempts).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.attempts).toHaveLength(9);
  });

  it("tags failing while a retry is pending join it: one retry carries them all", async () => {
    const { store, mirror, invalidator } = setUp();
    store.failing = true;
    await invalidator.invalidate(["a"]);
    await invalidator.invalidate(["b"]);
    store.failing = false;
    await vi.advanceTimersByTimeAsync(250);
    expect(store.attempts).toEqual([["a"], ["b"], ["a", "b"]]);
    expect(mirror.anyUnbumped(["a", "b"])).toBe(false);
  });

  it("with a bus: waits for the announcement's acknowledgements, and abandons it when the bump fails", async () => {
    const waited: Pick<Bumped, "members">[] = [];
    const abandoned: string[] = [];
    const bus = {
      announcement: () => ({
        channel: "c",
        membersKey: "m",
        id: "announcement-1",
        from: "me",
        leaseMs: 1_000,
        database: 0,
        wait: (bumped: Pick<Bumped, "members">) => {
          waited.push(bumped);
          return Promise.resolve();
        },
      }),
      abandon: (id: string) => void abandoned.push(id),
    } as unknown as InvalidationBus;
    const { store, invalidator } = setUp(bus);
    await invalidator.invalidate(["a"]);
    expect(waited).toEqual([{ versions: [1], members: [], leaseLeftMs: 0 }]);
    store.failing = true;
    await invalidator.invalidate(["b"]);
    expect(abandoned).toEqual(["announcement-1"]);
  });
});
