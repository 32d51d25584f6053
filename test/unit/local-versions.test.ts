/**
 * Tag versions without Redis (src/invalidation/version-store.ts): the shared
 * mirror is the authority, so a version must never repeat, not even after
 * the mirror overflowed and forgot every tag within the same millisecond as
 * a write (consistency contract, items 1 and 2).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { VersionMirror } from "../../src/invalidation/version-mirror.ts";
import { LocalVersionStore } from "../../src/invalidation/version-store.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("LocalVersionStore", () => {
  it("never gives a forgotten tag a version issued before, even within one millisecond (the clock frozen)", async () => {
    vi.spyOn(Date, "now").mockReturnValue(1_700_000_000_000);
    const mirror = new VersionMirror(() => undefined);
    const store = new LocalVersionStore(mirror);
    const [captured] = store.readNow(["r:User:1"]);
    const { versions } = await store.bump(["r:User:1"]);
    mirror.reset(); // the mirror overflowed: every tag forgotten
    const [after] = store.readNow(["r:User:1"]);

    expect(versions[0]).toBeGreaterThan(captured as number);
    expect(after, "a version never issued before: an entry or a load holding an older one is dead").toBeGreaterThan(
      versions[0] as number,
    );
  });

  it("versions move forward with the clock, and a bump always moves a tag forward", async () => {
    const now = vi.spyOn(Date, "now").mockReturnValue(1_700_000_000_000);
    const store = new LocalVersionStore(new VersionMirror(() => undefined));
    const [first] = store.readNow(["m:Post"]);
    now.mockReturnValue(1_700_000_000_500);
    const [unrelated] = store.readNow(["m:Tag"]);
    const { versions } = await store.bump(["m:Post", "m:Post"]);

    expect(unrelated).toBe(1_700_000_000_500_000);
    expect(versions[0]).toBeGreaterThan(first as number);
    expect(versions[1]).toBeGreaterThan(versions[0] as number);
    expect(store.readNow(["m:Post"])).toEqual([versions[1]]);
  });
});
