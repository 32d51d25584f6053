/**
 * Where versions live (src/invalidation/version-source.ts), and the unbumped
 * tags of the mirror: what the read path, the request scope and
 * write-through ask without knowing whether Redis is there.
 */
import { describe, expect, it } from "vitest";
import type { InvalidationBus } from "../../src/invalidation/bus.ts";
import { VersionMirror } from "../../src/invalidation/version-mirror.ts";
import { LocalVersions, RedisVersions } from "../../src/invalidation/version-source.ts";
import { LocalVersionStore, type VersionStore } from "../../src/invalidation/version-store.ts";

describe("LocalVersions (no Redis)", () => {
  it("always hears every invalidation, is ready at once, and reads the versions this process issued", async () => {
    const store = new LocalVersionStore(new VersionMirror(() => undefined));
    const versions = new LocalVersions(store);
    expect(versions.hearsEveryInvalidation()).toBe(true);
    await expect(versions.ready()).resolves.toBeUndefined();
    const before = versions.readLocal(["m:User"]);
    const { versions: bumped } = await store.bump(["m:User"]);
    expect(versions.readLocal(["m:User"])).toEqual(bumped);
    expect(bumped[0]).toBeGreaterThan(before[0] as number);
    expect(versions.mirror).toBe(store.mirror);
    expect(versions.bus).toBeUndefined();
  });
});

describe("RedisVersions", () => {
  /** A bus whose lease can be switched, as heartbeats would. */
  function fakeBus() {
    const state = { hears: true, closed: 0 };
    const bus = {
      hearsEveryInvalidation: () => state.hears,
      ready: Promise.resolve(),
      close: async () => void state.closed++,
    } as unknown as InvalidationBus;
    return { bus, state };
  }

  it("hears every invalidation exactly while its bus does, and has no versions of its own to read locally", async () => {
    const { bus, state } = fakeBus();
    const versions = new RedisVersions({} as VersionStore, new VersionMirror(() => undefined), bus);
    expect(versions.hearsEveryInvalidation()).toBe(true);
    state.hears = false;
    expect(versions.hearsEveryInvalidation()).toBe(false);
    expect(versions.readLocal()).toBeUndefined();
    await versions.close();
    expect(state.closed).toBe(1);
  });
});

describe("VersionMirror unbumped tags", () => {
  it("a tag whose bump Redis has not taken is forgotten, not recorded, and reported by anyUnbumped until markBumped", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("m:User", 1);
    mirror.markUnbumped(["m:User"]);
    expect(mirror.anyUnbumped(["m:Post", "m:User"])).toBe(true);
    expect(mirror.anyUnbumped(["m:Post"])).toBe(false);
    mirror.observe("m:User", 5);
    expect(mirror.get("m:User"), "Redis still holds the old version: not recorded").toBeUndefined();
    mirror.markBumped(["m:User"]);
    expect(mirror.anyUnbumped(["m:User"])).toBe(false);
    mirror.observe("m:User", 6);
    expect(mirror.get("m:User")).toBe(6);
  });
});
