/**
 * The hot-key sketch: bounded, finds the heavy keys among many light ones,
 * reads rates over its window, decays when the traffic stops, and never
 * shows a raw key.
 */
import { describe, expect, it } from "vitest";
import { HotKeys } from "../../../src/observe/hot-keys.js";
import { keyHash } from "../../../src/observe/log-events.js";
import { ShapeRecord } from "../../../src/observe/shape-table.js";

const record = new ShapeRecord("User", "findUnique", "abc");

describe("HotKeys", () => {
  it("finds the heavy keys among many more light keys than it has counters", () => {
    const sketch = new HotKeys(16, 10_000, 0);
    for (let round = 0; round < 100; round++) {
      sketch.sample("User|findUnique|{id:1}|", record, 0, 1);
      sketch.sample("User|findUnique|{id:2}|", record, 0, 1);
      sketch.sample("User|findUnique|{id:2}|", record, 0, 1);
      for (let light = 0; light < 10; light++)
        sketch.sample(`User|findUnique|{id:${1000 + round * 10 + light}}|`, record, 0, 1);
    }
    const top = sketch.top(2, 1_000);
    expect(top).toHaveLength(2);
    // 200 and 100 reads over 1 s; Space-Saving may overestimate by at most the smallest counter.
    expect(top[0]!.rate).toBeGreaterThanOrEqual(200);
    expect(top[1]!.rate).toBeGreaterThanOrEqual(100);
    expect(top[0]!.rate).toBeLessThan(300);
    expect(JSON.stringify(top), "keys are hashed").not.toContain("id:");
    expect(top[0]).toMatchObject({ model: "User", operation: "findUnique", shape: "abc" });
  });

  it("lets a heavy key in that starts after light keys have filled every counter", () => {
    const sketch = new HotKeys(16, 10_000, 0);
    for (let light = 0; light < 5_000; light++) sketch.sample(`User|findUnique|{id:${light}}|`, record, 0, 16);
    for (let round = 0; round < 1_000; round++) {
      sketch.sample("User|findUnique|{id:hot}|", record, 0, 16);
      for (let light = 0; light < 5; light++)
        sketch.sample(`User|findUnique|{id:${10_000 + round * 5 + light}}|`, record, 0, 16);
    }
    const [top] = sketch.top(1, 1_000);
    // Read 1,000 x 16 times; admitted at random, it loses at most the reads made before it got in.
    expect(top!.rate).toBeGreaterThan(0.5 * 1_000 * 16);
    expect(top!.key).toBe(keyHash("User|findUnique|{id:hot}|"));
  });

  it("counts a weighted sample as that many reads, and halves each window until the key is forgotten", () => {
    const sketch = new HotKeys(4, 1_000, 0);
    for (let i = 0; i < 10; i++) sketch.sample("k", record, 0, 16); // 160 reads
    expect(sketch.top(1, 500)[0]!.rate).toBe(320); // over 0.5 s
    // One window later: halved, read over 1 s; after 8 windows: forgotten.
    expect(sketch.top(1, 1_000)[0]!.rate).toBe(80);
    expect(sketch.top(1, 9_000)).toEqual([]);
  });
});
