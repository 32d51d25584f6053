/**
 * Tag names: the reserved prefixes, record tags that carry no key values and
 * that a read and a write derive identically however the key was written,
 * and validation of the caller's own tags.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSchemaGraph, type SchemaModel } from "../../../src/schema/schema-graph.ts";
import {
  isValidCustomTag,
  MAX_TAG_LENGTH,
  modelTag,
  primaryKeyTag,
  recordTag,
  recordTagFromRow,
  recordTagFromWhere,
  rowsTag,
  validateTag,
} from "../../../src/tags/tag-names.ts";
import { catchCacheError } from "../support/cache-error.ts";

const graph = parseSchemaGraph(readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8"));

function modelOf(name: string, g = graph): SchemaModel {
  const model = g.models.get(name);
  if (model === undefined) throw new Error(`no model ${name}`);
  return model;
}

/** 96 bits of SHA-256 in unpadded base64url. */
const HASH = "[A-Za-z0-9_-]{16}";

describe("model and rows tags", () => {
  it("are m:Model and rs:Model", () => {
    expect(modelTag("User")).toBe("m:User");
    expect(rowsTag("User")).toBe("rs:User");
  });
});

describe("record tags", () => {
  it("are r:Model:<hash>, and never carry the key's values", () => {
    const tag = recordTag("Account", ["alice@example.com"]);
    expect(tag).toMatch(new RegExp(`^r:Account:${HASH}$`));
    expect(tag).not.toContain("alice");
  });

  it("are the same for the same values and differ for different values, models and field order", () => {
    expect(recordTag("User", [5n])).toBe(recordTag("User", [5n]));
    expect(recordTag("User", [5n])).not.toBe(recordTag("User", [6n]));
    expect(recordTag("User", [5n])).not.toBe(recordTag("Post", [5n]));
    expect(recordTag("Membership", [1n, 2n])).not.toBe(recordTag("Membership", [2n, 1n]));
  });

  it("name one Int key the same whether it was written as a number or a bigint", () => {
    expect(primaryKeyTag(modelOf("User"), [5])).toBe(primaryKeyTag(modelOf("User"), [5n]));
    expect(primaryKeyTag(modelOf("User"), [5])).toMatch(new RegExp(`^r:User:${HASH}$`));
  });

  it("name a BigInt key the same from a where (number) and from a returned row (bigint)", () => {
    const g = parseSchemaGraph("model Event {\n  id BigInt @id\n}\n");
    expect(recordTagFromWhere(modelOf("Event", g), { id: 9007199254740993n })).toBe(
      recordTagFromRow(modelOf("Event", g), { id: 9007199254740993n }),
    );
    expect(recordTagFromWhere(modelOf("Event", g), { id: 42 })).toBe(
      recordTagFromRow(modelOf("Event", g), { id: 42n }),
    );
  });

  it("name one UUID the same in any case, with or without braces and hyphens (as Postgres reads it)", () => {
    const g = parseSchemaGraph(
      'datasource db {\n  provider = "postgresql"\n}\nmodel Doc {\n  id String @id @db.Uuid\n}\n',
    );
    const doc = modelOf("Doc", g);
    const canonical = primaryKeyTag(doc, ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]);
    expect(canonical).toBeDefined();
    expect(primaryKeyTag(doc, ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"])).toBe(canonical);
    expect(primaryKeyTag(doc, ["{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"])).toBe(canonical);
    expect(primaryKeyTag(doc, ["a0eebc999c0b4ef8bb6d6bb9bd380a11"])).toBe(canonical);
    expect(primaryKeyTag(doc, ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"])).not.toBe(canonical);
  });

  it("keep exact string keys case-sensitive", () => {
    const g = parseSchemaGraph(
      'datasource db {\n  provider = "postgresql"\n}\nmodel Account {\n  email String @id\n}\n',
    );
    const account = modelOf("Account", g);
    expect(primaryKeyTag(account, ["a@b.c"])).toBeDefined();
    expect(primaryKeyTag(account, ["A@b.c"])).not.toBe(primaryKeyTag(account, ["a@b.c"]));
  });

  it("are not derived for keys the database compares inexactly (String on MySQL, DateTime)", () => {
    const mysql = parseSchemaGraph(
      'datasource db {\n  provider = "mysql"\n}\nmodel Account {\n  email String @id\n}\nmodel Day {\n  at DateTime @id\n}\n',
    );
    expect(primaryKeyTag(modelOf("Account", mysql), ["a@b.c"])).toBeUndefined();
    expect(recordTagFromWhere(modelOf("Account", mysql), { email: "a@b.c" })).toBeUndefined();
    expect(recordTagFromRow(modelOf("Day", mysql), { at: new Date(0) })).toBeUndefined();
  });

  it("are not derived from values that are not plain keys", () => {
    const user = modelOf("User");
    for (const value of [5.5, "5", null, undefined, { equals: 5 }, [5], Number.NaN, true]) {
      expect(primaryKeyTag(user, [value]), String(value)).toBeUndefined();
    }
    expect(primaryKeyTag(user, [])).toBeUndefined();
    expect(primaryKeyTag(user, [1, 2])).toBeUndefined();
  });

  it("are not derived for a model without a primary key", () => {
    const g = parseSchemaGraph("view Summary {\n  key Int @unique\n}\n");
    expect(primaryKeyTag(modelOf("Summary", g), [1])).toBeUndefined();
    expect(recordTagFromWhere(modelOf("Summary", g), { key: 1 })).toBeUndefined();
  });
});

describe("recordTagFromWhere", () => {
  const user = modelOf("User");
  const membership = modelOf("Membership");

  it("reads a single-field primary key", () => {
    expect(recordTagFromWhere(user, { id: 5 })).toBe(primaryKeyTag(user, [5]));
  });

  it("ignores extra filters beside the key (still that row or nothing)", () => {
    expect(recordTagFromWhere(user, { id: 5, name: "x", posts: { some: {} } })).toBe(primaryKeyTag(user, [5]));
  });

  it("reads a compound primary key by its where name", () => {
    expect(recordTagFromWhere(membership, { userId_groupId: { userId: 1, groupId: 2 } })).toBe(
      primaryKeyTag(membership, [1, 2]),
    );
  });

  it("needs every field of a compound key", () => {
    expect(recordTagFromWhere(membership, { userId_groupId: { userId: 1 } })).toBeUndefined();
    expect(recordTagFromWhere(membership, { userId: 1, groupId: 2 })).toBeUndefined();
  });

  it("does not treat a filter on the key, another unique key, or no where as the primary key", () => {
    expect(recordTagFromWhere(user, { id: { equals: 5 } })).toBeUndefined();
    expect(recordTagFromWhere(user, { tenantId_email: { tenantId: 1, email: "a@b.c" } })).toBeUndefined();
    expect(recordTagFromWhere(user, undefined)).toBeUndefined();
    expect(recordTagFromWhere(user, null)).toBeUndefined();
    expect(recordTagFromWhere(user, "id")).toBeUndefined();
  });
});

describe("recordTagFromRow", () => {
  it("reads the key from a returned row, and nothing from rows without it", () => {
    const user = modelOf("User");
    expect(recordTagFromRow(user, { id: 5, name: "Ann" })).toBe(primaryKeyTag(user, [5]));
    expect(recordTagFromRow(user, { name: "Ann" })).toBeUndefined();
    expect(recordTagFromRow(user, { id: null })).toBeUndefined();
    expect(recordTagFromRow(user, null)).toBeUndefined();
    expect(recordTagFromRow(user, { count: 3 })).toBeUndefined();
    expect(recordTagFromRow(modelOf("Membership"), { userId: 1, groupId: 2, role: "x" })).toBe(
      primaryKeyTag(modelOf("Membership"), [1, 2]),
    );
  });
});

describe("custom tags", () => {
  const valid = [
    "user:42",
    "tenant-7",
    "x",
    "ümlaut:ok",
    "a".repeat(MAX_TAG_LENGTH),
    "M:upper-is-not-reserved",
    "mx:1",
    "rss:feed",
    "emoji:🎉",
  ];
  const invalid: Array<[string, unknown, RegExp]> = [
    ["an empty string", "", /is empty/],
    ["a number", 42, /is not a string/],
    ["null", null, /is not a string/],
    ["a tag over the maximum length", "a".repeat(MAX_TAG_LENGTH + 1), /is 201 characters long; the maximum is 200/],
    ["a space", "user 42", /whitespace/],
    ["a tab", "user\t42", /whitespace/],
    ["a newline", "user\n42", /whitespace/],
    ["a non-breaking space", "user\u00a042", /whitespace/],
    ["a line separator", "user\u202842", /whitespace/],
    ["a NUL character", "user\u000042", /control character/],
    ["DEL", "user\u007f", /control character/],
    ["a lone surrogate", "user\ud800", /lone surrogate/],
    ["the model prefix", "m:User", /starts with "m:", which is reserved/],
    ["the record prefix", "r:User:abc", /starts with "r:", which is reserved/],
    ["the rows prefix", "rs:User", /starts with "rs:", which is reserved/],
  ];

  it.each(valid)("accepts %j", (tag) => {
    expect(isValidCustomTag(tag)).toBe(true);
    expect(validateTag(tag, "cache.tags")).toBe(tag);
  });

  it.each(invalid)("refuses %s", (_name, tag, problem) => {
    expect(isValidCustomTag(tag)).toBe(false);
    const error = catchCacheError(() => validateTag(tag, "cache.tags"), "E_INVALID_TAG");
    expect(error.message).toContain("cache.tags: tag ");
    expect(error.message).toMatch(problem);
  });

  it("shortens a long tag in the error message", () => {
    const error = catchCacheError(() => validateTag(`m:${"x".repeat(500)}`, "$cache.invalidate"), "E_INVALID_TAG");
    expect(error.message).toContain("$cache.invalidate");
    expect(error.message.length).toBeLessThan(400);
  });
});
