/**
 * The shape table: one record per (model, operation, shape group), values
 * never part of a group, the number of groups bounded with the rest in
 * `other`.
 */
import { describe, expect, it } from "vitest";
import { queryKey } from "../../../src/keys/query-key.js";
import { OVERFLOW_SHAPE, ShapeTable } from "../../../src/observe/shape-table.js";

const key = (model: string, operation: string, args: Record<string, unknown>) =>
  queryKey("ns:", model, operation, args, undefined).local;

describe("ShapeTable", () => {
  it("puts reads differing only in values in one group, and other structures in others", () => {
    const table = new ShapeTable(10);
    const a = table.of(key("User", "findUnique", { where: { id: 1 } }));
    const b = table.of(key("User", "findUnique", { where: { id: 2 } }));
    const c = table.of(key("User", "findUnique", { where: { email: "x@y.z" } }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).toMatchObject({ model: "User", operation: "findUnique" });
    expect(a.shape).toMatch(/^[\w-]{10}$/);
  });

  it("counts shapes past the bound in one `other` group per model and operation", () => {
    const table = new ShapeTable(2);
    table.of(key("User", "findMany", { where: { id: 1 } }));
    table.of(key("User", "findMany", { where: { name: "a" } }));
    const third = table.of(key("User", "findMany", { where: { email: "a" } }));
    const fourth = table.of(key("User", "findMany", { take: 5 }));
    const otherModel = table.of(key("Post", "findMany", { take: 5 }));
    expect(third.shape).toBe(OVERFLOW_SHAPE);
    expect(fourth).toBe(third);
    expect(otherModel).toMatchObject({ model: "Post", shape: OVERFLOW_SHAPE });
    expect([...table.records()]).toHaveLength(4);
  });
});
