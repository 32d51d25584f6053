/**
 * What a notification of the event triggers means: the tags it stands for
 * must be the ones a write through the client bumps for the same rows
 * (record tags computed from the values Prisma returns), or every read that
 * depends on those rows would survive an external write.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tagsOfPayload, validateChannel } from "../../../src/events/payload.js";
import { parseSchemaGraph, type SchemaModel } from "../../../src/schema/schema-graph.js";
import { recordTagFromRow } from "../../../src/tags/tag-names.js";

const graph = parseSchemaGraph(readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8"));
const model = (name: string) => graph.models.get(name) as SchemaModel;

describe("tagsOfPayload", () => {
  it("names each row's record tag as the row Prisma returns would, and the model", () => {
    const meaning = tagsOfPayload(graph, '{"v":1,"m":"User","k":[["1"],["9007199254740993"]]}');
    expect(meaning).toEqual({
      tags: [
        "m:User",
        recordTagFromRow(model("User"), { id: 1 }),
        recordTagFromRow(model("User"), { id: 9007199254740993n }),
      ],
    });
  });

  it("reads a compound key in the order of the key's fields", () => {
    const meaning = tagsOfPayload(graph, '{"v":1,"m":"Membership","k":[["3","4"]]}');
    expect(meaning).toEqual({
      tags: ["m:Membership", recordTagFromRow(model("Membership"), { userId: 3, groupId: 4 })],
    });
  });

  it("converts text, UUID, Boolean and Bytes keys back to what Prisma returns", () => {
    const g = parseSchemaGraph(`
      datasource db { provider = "postgresql" }
      model S { id String @id }
      model U { id String @id @db.Uuid }
      model B { id Boolean @id }
      model Y { id Bytes @id }
    `);
    const tag = (name: string, row: object) => recordTagFromRow(g.models.get(name) as SchemaModel, row);
    expect(tagsOfPayload(g, '{"v":1,"m":"S","k":[["Ab"]]}')).toEqual({ tags: ["m:S", tag("S", { id: "Ab" })] });
    expect(tagsOfPayload(g, '{"v":1,"m":"U","k":[["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]]}')).toEqual({
      tags: ["m:U", tag("U", { id: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11" })],
    });
    expect(tagsOfPayload(g, '{"v":1,"m":"B","k":[["true"]]}')).toEqual({ tags: ["m:B", tag("B", { id: true })] });
    expect(tagsOfPayload(g, '{"v":1,"m":"Y","k":[["00ff"]]}')).toEqual({
      tags: ["m:Y", tag("Y", { id: new Uint8Array([0, 255]) })],
    });
  });

  it("names the whole model when the trigger sent no keys, or a key it cannot read", () => {
    expect(tagsOfPayload(graph, '{"v":1,"m":"Post"}')).toEqual({ tags: ["m:Post", "rs:Post"] });
    expect(tagsOfPayload(graph, '{"v":1,"m":"Post","k":[["x"]]}')).toEqual({ tags: ["m:Post", "rs:Post"] });
    expect(tagsOfPayload(graph, '{"v":1,"m":"Post","k":[["1","2"]]}')).toEqual({ tags: ["m:Post", "rs:Post"] });
  });

  it("names a join table by its relation", () => {
    expect(tagsOfPayload(graph, '{"v":1,"j":"PostToTag"}')).toEqual({ tags: ["j:PostToTag"] });
  });

  it("says when a payload cannot be read, so that the listener invalidates everything", () => {
    for (const payload of ["", "{", "[]", '{"v":2,"m":"User"}', '{"v":1}', '{"v":1,"m":"User","k":{}}'])
      expect(tagsOfPayload(graph, payload), payload).toHaveProperty("unreadable");
  });
});

describe("validateChannel", () => {
  it("accepts a plain identifier and refuses what LISTEN would need quoting or case-folding for", () => {
    expect(validateChannel("prisma_query_cache", "channel")).toBe("prisma_query_cache");
    for (const bad of ["", "Upper", "has-dash", "1st", "x".repeat(64), 5])
      expect(() => validateChannel(bad, "events.channel")).toThrow(/events\.channel/);
  });
});
