/**
 * This process's view of tag versions (src/invalidation/version-mirror.ts):
 * it only moves forward, it counts what can make an entry stale, and a tag
 * whose bump Redis has not taken is not trusted until it has.
 */
import { describe, expect, it } from "vitest";
import { VersionMirror } from "../../../src/invalidation/version-mirror.ts";

describe("VersionMirror", () => {
  it("never moves a tag backwards: an older version read late is ignored", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("t", 5);
    mirror.observe("t", 3);
    expect(mirror.get("t")).toBe(5);
    mirror.observe("t", 7);
    expect(mirror.get("t")).toBe(7);
  });

  it("a first sighting starts no new epoch; a known tag moving on does", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("t", 1);
    expect(mirror.epoch).toBe(0);
    mirror.observe("t", 1);
    expect(mirror.epoch, "the same version again").toBe(0);
    mirror.observe("t", 2);
    expect(mirror.epoch).toBe(1);
  });

  it("counts every invalidation heard, even of a tag it does not know, unlike the epoch", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.invalidated("unknown", 9);
    expect(mirror.invalidations).toBe(1);
    expect(mirror.epoch).toBe(0);
    mirror.invalidated("unknown", 10);
    expect(mirror.invalidations).toBe(2);
    expect(mirror.epoch).toBe(1);
  });

  it("versionsOf gives the versions of known tags, or undefined when one is unknown", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("a", 1);
    mirror.observe("b", 2);
    expect(mirror.versionsOf(["b", "a"])).toEqual([2, 1]);
    expect(mirror.versionsOf(["a", "c"])).toBeUndefined();
    expect(mirror.matches(["a", "b"], [1, 2])).toBe(true);
    expect(mirror.matches(["a", "b"], [1, 3])).toBe(false);
    expect(mirror.matches(["a", "c"], [1, 0]), "an unknown tag never matches").toBe(false);
  });

  it("forget drops a tag and moves the epoch; entries depending on it revalidate", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("t", 1);
    mirror.forget("t");
    expect(mirror.get("t")).toBeUndefined();
    expect(mirror.epoch).toBe(1);
    expect(mirror.invalidations).toBe(1);
  });

  it("an unbumped tag is forgotten and not recorded again until marked bumped", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("t", 1);
    mirror.markUnbumped(["t"]);
    expect(mirror.get("t")).toBeUndefined();
    expect(mirror.anyUnbumped(["t"])).toBe(true);
    mirror.observe("t", 1);
    expect(mirror.get("t"), "Redis still holds the old version: not trusted").toBeUndefined();
    mirror.markBumped(["t"]);
    mirror.observe("t", 2);
    expect(mirror.get("t")).toBe(2);
    expect(mirror.anyUnbumped(["t"])).toBe(false);
  });

  it("past maxTags it starts over: forgets everything, moves every counter, and tells its owner", () => {
    let resets = 0;
    const mirror = new VersionMirror(() => resets++, 2);
    mirror.observe("a", 1);
    mirror.observe("b", 1);
    mirror.observe("a", 2);
    expect(resets, "a known tag never overflows").toBe(0);
    mirror.observe("c", 1);
    expect(resets).toBe(1);
    expect(mirror.size, "only the new tag").toBe(1);
    expect(mirror.get("a")).toBeUndefined();
    expect(mirror.get("c")).toBe(1);
    expect(mirror.generation).toBe(1);
  });

  it("reset moves epoch, invalidations and generation", () => {
    const mirror = new VersionMirror(() => undefined);
    mirror.observe("t", 1);
    mirror.reset();
    expect({ epoch: mirror.epoch, invalidations: mirror.invalidations, generation: mirror.generation }).toEqual({
      epoch: 1,
      invalidations: 1,
      generation: 1,
    });
    expect(mirror.size).toBe(0);
  });
});
