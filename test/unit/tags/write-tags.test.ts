/**
 * Write tags: which tags each mutation bumps (docs/invalidation.md,
 * "Writes"), on the test schema, and the contract between the two sides:
 * a write evicts exactly the reads it can have changed (and a write to one
 * row leaves a record-level read of another row alone).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSchemaGraph, type SchemaGraph } from "../../../src/schema/schema-graph.ts";
import { readTags } from "../../../src/tags/read-tags.ts";
import { primaryKeyTag } from "../../../src/tags/tag-names.ts";
import { writeTags } from "../../../src/tags/write-tags.ts";

const graph = parseSchemaGraph(readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8"));

/** The record tag of a row. */
function rec(model: string, key: unknown[], g: SchemaGraph = graph): string {
  const schemaModel = g.models.get(model);
  const tag = schemaModel && primaryKeyTag(schemaModel, key);
  if (tag === undefined) throw new Error(`no record tag for ${model} ${String(key)}`);
  return tag;
}

/** m: and rs: of each model: what a write to rows of unknown keys (or a referential action) bumps. */
const rows = (...models: string[]): string[] => models.flatMap((model) => [`m:${model}`, `rs:${model}`]);
/** The expected tags, deduplicated and sorted as writeTags returns them. */
const tags = (...list: Array<string | string[]>): string[] => [...new Set(list.flat())].sort();

/** What deleting a User reaches: Profile, Comment, Membership (Cascade), Post (SetNull), User (self SetNull). */
const USER_DELETE_REACH = rows("Profile", "Comment", "Membership", "Post", "User");

describe("create", () => {
  it("names the created row when the result holds its key", () => {
    expect(writeTags(graph, "Tag", "create", { data: { name: "news" } }, { id: 7, name: "news" })).toEqual(
      tags("m:Tag", rec("Tag", [7])),
    );
  });

  it("falls back to rs: when the result lacks the key (a select without it) or is missing", () => {
    expect(
      writeTags(graph, "Tag", "create", { data: { name: "news" }, select: { name: true } }, { name: "news" }),
    ).toEqual(tags(rows("Tag")));
    expect(writeTags(graph, "Tag", "create", { data: { name: "news" } }, undefined)).toEqual(tags(rows("Tag")));
    expect(writeTags(graph, "Tag", "create", { data: { name: "news" } }, null)).toEqual(tags(rows("Tag")));
  });

  it("a compound key from the returned row", () => {
    expect(
      writeTags(
        graph,
        "Membership",
        "create",
        { data: { userId: 1, groupId: 2 } },
        { userId: 1, groupId: 2, role: "member" },
      ),
    ).toEqual(tags("m:Membership", rec("Membership", [1, 2])));
  });
});

describe("createMany and createManyAndReturn", () => {
  it("createMany does not know the keys: rs:", () => {
    expect(writeTags(graph, "Tag", "createMany", { data: [{ name: "a" }, { name: "b" }] }, { count: 2 })).toEqual(
      tags(rows("Tag")),
    );
    expect(writeTags(graph, "Tag", "createMany", { data: { name: "a" }, skipDuplicates: true }, { count: 1 })).toEqual(
      tags(rows("Tag")),
    );
  });

  it("createManyAndReturn names every returned row", () => {
    expect(
      writeTags(graph, "Tag", "createManyAndReturn", { data: [{ name: "a" }, { name: "b" }] }, [
        { id: 1, name: "a" },
        { id: 2, name: "b" },
      ]),
    ).toEqual(tags("m:Tag", rec("Tag", [1]), rec("Tag", [2])));
  });

  it("createManyAndReturn falls back to rs: when a row lacks its key", () => {
    expect(
      writeTags(graph, "Tag", "createManyAndReturn", { data: [{ name: "a" }], select: { name: true } }, [
        { name: "a" },
      ]),
    ).toEqual(tags(rows("Tag")));
  });

  it("createManyAndReturn that created nothing touches no row", () => {
    expect(writeTags(graph, "Tag", "createManyAndReturn", { data: [{ name: "a" }], skipDuplicates: true }, [])).toEqual(
      ["m:Tag"],
    );
  });
});

describe("update", () => {
  it("by primary key: the record tag, no rs:", () => {
    expect(
      writeTags(graph, "User", "update", { where: { id: 5 }, data: { name: "Ann" } }, { id: 5, name: "Ann" }),
    ).toEqual(tags("m:User", rec("User", [5])));
  });

  it("by primary key with a result that lacks the key: still the where's record", () => {
    expect(
      writeTags(
        graph,
        "User",
        "update",
        { where: { id: 5 }, data: { name: "Ann" }, select: { name: true } },
        { name: "Ann" },
      ),
    ).toEqual(tags("m:User", rec("User", [5])));
  });

  it("by a compound primary key", () => {
    const args = { where: { userId_groupId: { userId: 1, groupId: 2 } }, data: { role: "owner" } };
    expect(writeTags(graph, "Membership", "update", args, { userId: 1, groupId: 2, role: "owner" })).toEqual(
      tags("m:Membership", rec("Membership", [1, 2])),
    );
  });

  it("by a non-primary unique key: the key comes from the result", () => {
    const args = { where: { tenantId_email: { tenantId: 1, email: "a@b.c" } }, data: { name: "Ann" } };
    expect(writeTags(graph, "User", "update", args, { id: 5, name: "Ann" })).toEqual(tags("m:User", rec("User", [5])));
  });

  it("by a non-primary unique key, result without the key: rs:", () => {
    const args = {
      where: { tenantId_email: { tenantId: 1, email: "a@b.c" } },
      data: { name: "Ann" },
      select: { name: true },
    };
    expect(writeTags(graph, "User", "update", args, { name: "Ann" })).toEqual(tags(rows("User")));
  });

  it("a key filter object in where is not a known key", () => {
    expect(writeTags(graph, "Comment", "update", { where: { id: { equals: 3 } }, data: { body: "x" } }, null)).toEqual(
      tags(rows("Comment")),
    );
  });

  it("changing the primary key adds rs: (the old key may be unknown) and, when referenced, the onUpdate reach", () => {
    // Comment.id is referenced by nobody.
    expect(writeTags(graph, "Comment", "update", { where: { id: 3 }, data: { id: 30 } }, { id: 30 })).toEqual(
      tags(rows("Comment"), rec("Comment", [3]), rec("Comment", [30])),
    );
    // User.id is referenced by Profile, Post, Comment, Membership and User.manager (onUpdate Cascade by default).
    expect(writeTags(graph, "User", "update", { where: { id: 5 }, data: { id: 50 } }, { id: 50 })).toEqual(
      tags(rows("User", "Profile", "Post", "Comment", "Membership"), rec("User", [5]), rec("User", [50])),
    );
  });

  it("changing Tag's key moves its implicit join rows: Post is reached", () => {
    expect(
      writeTags(graph, "Tag", "update", { where: { id: 1 }, data: { id: { increment: 100 } } }, { id: 101 }),
    ).toEqual(tags(rows("Tag", "Post"), rec("Tag", [1]), rec("Tag", [101])));
  });

  it("changing a compound key through a relation (connect) or a foreign-key scalar adds rs:", () => {
    const key = { userId_groupId: { userId: 1, groupId: 2 } };
    expect(
      writeTags(
        graph,
        "Membership",
        "update",
        { where: key, data: { user: { connect: { id: 9 } } } },
        { userId: 9, groupId: 2 },
      ),
    ).toEqual(tags(rows("Membership"), rec("Membership", [1, 2]), rec("Membership", [9, 2])));
    expect(
      writeTags(graph, "Membership", "update", { where: key, data: { groupId: 3 } }, { userId: 1, groupId: 3 }),
    ).toEqual(tags(rows("Membership"), rec("Membership", [1, 2]), rec("Membership", [1, 3])));
  });

  it("undefined data values change nothing", () => {
    expect(
      writeTags(graph, "User", "update", { where: { id: 5 }, data: { id: undefined, name: "x" } }, { id: 5 }),
    ).toEqual(tags("m:User", rec("User", [5])));
  });
});

describe("updateMany and updateManyAndReturn", () => {
  it("updateMany does not know the keys: rs:", () => {
    expect(
      writeTags(graph, "Post", "updateMany", { where: { published: false }, data: { views: 0 } }, { count: 12 }),
    ).toEqual(tags(rows("Post")));
  });

  it("updateMany of a referenced key reaches onUpdate", () => {
    expect(writeTags(graph, "Tenant", "updateMany", { data: { id: { increment: 1 } } }, { count: 3 })).toEqual(
      tags(rows("Tenant", "User", "Post")),
    );
  });

  it("updateManyAndReturn names every returned row", () => {
    expect(
      writeTags(graph, "Post", "updateManyAndReturn", { where: { published: false }, data: { views: 0 } }, [
        { id: 1 },
        { id: 2 },
      ]),
    ).toEqual(tags("m:Post", rec("Post", [1]), rec("Post", [2])));
  });

  it("updateManyAndReturn with rows lacking the key: rs:", () => {
    expect(
      writeTags(graph, "Post", "updateManyAndReturn", { data: { views: 0 }, select: { title: true } }, [
        { title: "x" },
      ]),
    ).toEqual(tags(rows("Post")));
  });
});

describe("upsert", () => {
  it("by primary key, result with the key", () => {
    expect(
      writeTags(
        graph,
        "Tag",
        "upsert",
        { where: { id: 1 }, create: { name: "a" }, update: { name: "a" } },
        { id: 1, name: "a" },
      ),
    ).toEqual(tags("m:Tag", rec("Tag", [1])));
  });

  it("created under another key than the where's: both rows named", () => {
    expect(
      writeTags(graph, "Tag", "upsert", { where: { id: 1 }, create: { name: "a" }, update: {} }, { id: 9, name: "a" }),
    ).toEqual(tags("m:Tag", rec("Tag", [1]), rec("Tag", [9])));
  });

  it("by primary key, result without the key: rs: (a created row's key is unknown)", () => {
    expect(
      writeTags(
        graph,
        "Tag",
        "upsert",
        { where: { id: 1 }, create: { name: "a" }, update: {}, select: { name: true } },
        { name: "a" },
      ),
    ).toEqual(tags(rows("Tag"), rec("Tag", [1])));
  });

  it("by a non-primary unique key with the key in the result", () => {
    expect(
      writeTags(
        graph,
        "Tag",
        "upsert",
        { where: { name: "a" }, create: { name: "a" }, update: {} },
        { id: 4, name: "a" },
      ),
    ).toEqual(tags("m:Tag", rec("Tag", [4])));
  });

  it("walks nested writes in both create and update (connecting a tenant changes no Tenant row)", () => {
    const args = {
      where: { id: 1 },
      create: { title: "t", slug: "s", tenant: { connect: { id: 1 } } },
      update: { comments: { deleteMany: {} } },
    };
    expect(writeTags(graph, "Post", "upsert", args, { id: 1 })).toEqual(
      tags("m:Post", rec("Post", [1]), rows("Comment")),
    );
  });

  it("an update branch that changes the primary key adds rs: and the onUpdate reach", () => {
    expect(
      writeTags(graph, "Group", "upsert", { where: { id: 1 }, create: { name: "g" }, update: { id: 2 } }, { id: 2 }),
    ).toEqual(tags(rows("Group", "Membership"), rec("Group", [1]), rec("Group", [2])));
  });
});

describe("delete and deleteMany", () => {
  it("delete by primary key: the record, plus every model the referential actions reach", () => {
    expect(writeTags(graph, "User", "delete", { where: { id: 5 } }, { id: 5 })).toEqual(
      tags(rec("User", [5]), USER_DELETE_REACH),
    );
  });

  it("delete of a model nothing references: just the record", () => {
    expect(writeTags(graph, "Comment", "delete", { where: { id: 3 } }, { id: 3, body: "x" })).toEqual(
      tags("m:Comment", rec("Comment", [3])),
    );
  });

  it("delete by a non-primary unique key names the row from the result, and reaches across the implicit many-to-many", () => {
    expect(writeTags(graph, "Tag", "delete", { where: { name: "news" } }, { id: 4, name: "news" })).toEqual(
      tags("m:Tag", rec("Tag", [4]), rows("Post")),
    );
  });

  it("delete without a known key: rs:", () => {
    expect(
      writeTags(graph, "Tag", "delete", { where: { name: "news" }, select: { name: true } }, { name: "news" }),
    ).toEqual(tags(rows("Tag", "Post")));
  });

  it("deleteMany: rs: plus the reach, followed transitively (Tenant -> User -> ...)", () => {
    expect(writeTags(graph, "Tenant", "deleteMany", { where: { slug: "a" } }, { count: 1 })).toEqual(
      tags(rows("Tenant", "User", "Post", "Profile", "Comment", "Membership", "Tag")),
    );
    expect(writeTags(graph, "Group", "deleteMany", {}, { count: 0 })).toEqual(tags(rows("Group", "Membership")));
  });

  it("deleting a compound-key row", () => {
    expect(
      writeTags(
        graph,
        "Membership",
        "delete",
        { where: { userId_groupId: { userId: 1, groupId: 2 } } },
        { userId: 1, groupId: 2 },
      ),
    ).toEqual(tags("m:Membership", rec("Membership", [1, 2])));
  });
});

describe("nested writes", () => {
  it("each nested operation on a list relation whose foreign key is on the related side changes the related rows, not the written one", () => {
    const operations: Array<[string, unknown]> = [
      ["create", { title: "t", slug: "s", tenant: { connect: { id: 1 } } }],
      ["createMany", { data: [{ title: "t", slug: "s", tenantId: 1 }] }],
      ["connect", { id: 3 }],
      ["connectOrCreate", { where: { id: 3 }, create: { title: "t", slug: "s", tenantId: 1 } }],
      ["set", [{ id: 3 }]],
      ["disconnect", [{ id: 3 }]],
      ["update", { where: { id: 3 }, data: { title: "x" } }],
      ["updateMany", { where: { published: false }, data: { views: 0 } }],
      ["upsert", { where: { id: 3 }, create: { title: "t", slug: "s", tenantId: 1 }, update: { title: "x" } }],
    ];
    // connect and disconnect name post 3 by its primary key: only that row's foreign key moves. The nested create
    // also connects a tenant, whose foreign key is on the created post: no Tenant row changes.
    const byRecord = new Set(["connect", "disconnect"]);
    for (const [operation, argument] of operations) {
      expect(
        writeTags(graph, "User", "update", { where: { id: 1 }, data: { posts: { [operation]: argument } } }, { id: 1 }),
        operation,
      ).toEqual(byRecord.has(operation) ? tags("m:Post", rec("Post", [3])) : tags(rows("Post")));
    }
  });

  it("nested delete and deleteMany add the related model's referential reach", () => {
    // Deleting posts cascades to comments and removes join rows to tags.
    expect(
      writeTags(graph, "User", "update", { where: { id: 1 }, data: { posts: { delete: { id: 3 } } } }, { id: 1 }),
    ).toEqual(tags(rows("Post", "Comment", "Tag")));
    expect(
      writeTags(graph, "Tenant", "update", { where: { id: 1 }, data: { users: { deleteMany: {} } } }, { id: 1 }),
    ).toEqual(tags(rows("User"), USER_DELETE_REACH));
  });

  it("a to-one nested delete (delete: true), and delete: false which does nothing", () => {
    expect(
      writeTags(graph, "User", "update", { where: { id: 1 }, data: { profile: { delete: true } } }, { id: 1 }),
    ).toEqual(tags(rows("Profile")));
    // delete: false changes nothing at all, and an update whose data holds only that writes no row.
    expect(
      writeTags(graph, "Post", "update", { where: { id: 1 }, data: { author: { delete: false } } }, { id: 1 }),
    ).toEqual([]);
  });

  it("connect, disconnect and set on an implicit many-to-many change only its join table", () => {
    expect(
      writeTags(
        graph,
        "Post",
        "update",
        { where: { id: 1 }, data: { tags: { set: [], connect: [{ id: 1 }, { id: 2 }] } } },
        { id: 1 },
      ),
    ).toEqual(["j:PostToTag"]);
    expect(
      writeTags(graph, "Tag", "update", { where: { id: 2 }, data: { posts: { disconnect: { id: 1 } } } }, { id: 2 }),
    ).toEqual(["j:PostToTag"]);
  });

  it("nested writes inside nested writes, several levels deep", () => {
    const data = {
      posts: {
        create: {
          title: "t",
          slug: "s",
          tenant: { connect: { id: 1 } },
          tags: { connectOrCreate: { where: { name: "news" }, create: { name: "news" } } },
          comments: { create: { body: "first", author: { connect: { id: 2 } } } },
        },
      },
    };
    expect(writeTags(graph, "User", "update", { where: { id: 1 }, data }, { id: 1 })).toEqual(
      tags(rows("Post", "Tag", "Comment"), "j:PostToTag"),
    );
  });

  it("nested list update { where, data } whose data deletes further down", () => {
    const data = { posts: { update: [{ where: { id: 3 }, data: { comments: { deleteMany: { body: "spam" } } } }] } };
    expect(writeTags(graph, "User", "update", { where: { id: 1 }, data }, { id: 1 })).toEqual(
      tags(rows("Post", "Comment")),
    );
  });

  it("nested to-one update, in both forms (plain data, and { data })", () => {
    const plain = { author: { update: { profile: { upsert: { create: { bio: "b" }, update: { bio: "b" } } } } } };
    const wrapped = {
      author: {
        update: {
          where: { name: "Ann" },
          data: { profile: { upsert: { create: { bio: "b" }, update: { bio: "b" } } } },
        },
      },
    };
    const expected = tags(rows("User", "Profile"));
    expect(writeTags(graph, "Post", "update", { where: { id: 1 }, data: plain }, { id: 1 })).toEqual(expected);
    expect(writeTags(graph, "Post", "update", { where: { id: 1 }, data: wrapped }, { id: 1 })).toEqual(expected);
  });

  it("a nested update that changes a referenced key reaches its onUpdate", () => {
    // Changing the author's id cascades to every table that references User.id.
    const data = { author: { update: { id: 77 } } };
    expect(writeTags(graph, "Post", "update", { where: { id: 1 }, data }, { id: 1 })).toEqual(
      tags(rows("User", "Profile", "Post", "Comment", "Membership")),
    );
  });

  it("connecting from the side without the foreign key moves the target's foreign key, and follows it when it is referenced", () => {
    // Grandchild references Child's (parentId, code): moving a child to another parent cascades to its grandchildren.
    const g = parseSchemaGraph(`
      model Parent {
        id       Int     @id
        children Child[]
      }
      model Child {
        id        Int          @id
        parentId  Int?
        code      String
        parent    Parent?      @relation(fields: [parentId], references: [id])
        grandkids Grandchild[]
        @@unique([parentId, code])
      }
      model Grandchild {
        id       Int     @id
        parentId Int?
        code     String?
        child    Child?  @relation(fields: [parentId, code], references: [parentId, code], onUpdate: Cascade)
      }
    `);
    // Child 3 (named by its key) moves; no Parent row changes.
    const childThree = tags("m:Child", rec("Child", [3], g), rows("Grandchild"));
    expect(
      writeTags(g, "Parent", "update", { where: { id: 1 }, data: { children: { connect: { id: 3 } } } }, { id: 1 }),
    ).toEqual(childThree);
    expect(
      writeTags(g, "Parent", "update", { where: { id: 1 }, data: { children: { disconnect: { id: 3 } } } }, { id: 1 }),
    ).toEqual(childThree);
    // The foreign-key side moving its own key: Child.parent connect changes Child.parentId, and no Parent row.
    expect(
      writeTags(g, "Child", "update", { where: { id: 3 }, data: { parent: { connect: { id: 2 } } } }, { id: 3 }),
    ).toEqual(childThree);
    // Moving a grandchild's own key changes nothing further.
    expect(
      writeTags(g, "Grandchild", "update", { where: { id: 4 }, data: { child: { disconnect: true } } }, { id: 4 }),
    ).toEqual(tags("m:Grandchild", rec("Grandchild", [4], g)));
  });

  it("nested writes in create data, and in each row of createMany", () => {
    const data = { name: "t", slug: "t", users: { create: [{ email: "a@b.c", profile: { create: { bio: "x" } } }] } };
    expect(writeTags(graph, "Tenant", "create", { data }, { id: 1 })).toEqual(
      tags("m:Tenant", rec("Tenant", [1]), rows("User", "Profile")),
    );
  });

  it("a relation without nested operations, or with unknown ones, adds nothing", () => {
    expect(
      writeTags(
        graph,
        "Post",
        "update",
        { where: { id: 1 }, data: { author: { frobnicate: true }, tags: undefined, title: "x" } },
        { id: 1 },
      ),
    ).toEqual(tags("m:Post", rec("Post", [1])));
  });
});

describe("robustness", () => {
  it("an unknown operation or model touches every row", () => {
    expect(writeTags(graph, "User", "executeRaw", {}, 3)).toEqual(tags(rows("User")));
    expect(writeTags(graph, "Nope", "update", { where: { id: 1 } }, { id: 1 })).toEqual(tags(rows("Nope")));
  });

  it("missing or odd arguments do not throw", () => {
    expect(writeTags(graph, "User", "update", undefined, undefined)).toEqual(tags(rows("User")));
    expect(writeTags(graph, "User", "update", { where: null, data: "x" }, 5)).toEqual(tags(rows("User")));
    expect(writeTags(graph, "User", "createMany", { data: null }, { count: 0 })).toEqual(tags(rows("User")));
    expect(
      writeTags(
        graph,
        "User",
        "update",
        { where: { id: 1 }, data: { posts: { create: "x", update: [null, 3], upsert: [null], createMany: "x" } } },
        null,
      ),
    ).toEqual(tags(rows("Post")));
  });
});

describe("the contract between read tags and write tags", () => {
  /** True when the write bumps a tag the read depends on, i.e. the write evicts the cached read. */
  const evicts = (
    read: [string, string, unknown],
    write: [string, string, unknown, unknown],
    g: SchemaGraph = graph,
  ): boolean => {
    const written = new Set(writeTags(g, ...write));
    return readTags(g, ...read).some((tag) => written.has(tag));
  };
  const userFive: [string, string, unknown] = ["User", "findUnique", { where: { id: 5 } }];

  it("a write to the same row evicts a record-level read, however the write named it", () => {
    expect(evicts(userFive, ["User", "update", { where: { id: 5 }, data: { name: "x" } }, { id: 5 }])).toBe(true);
    expect(
      evicts(userFive, [
        "User",
        "update",
        { where: { tenantId_email: { tenantId: 1, email: "a@b.c" } }, data: { name: "x" } },
        { id: 5 },
      ]),
    ).toBe(true);
    expect(
      evicts(userFive, [
        "User",
        "update",
        { where: { tenantId_email: { tenantId: 1, email: "a@b.c" } }, data: { name: "x" }, select: { name: true } },
        { name: "x" },
      ]),
    ).toBe(true);
    expect(evicts(userFive, ["User", "create", { data: { id: 5 } }, { id: 5 }])).toBe(true);
    expect(evicts(userFive, ["User", "updateMany", { data: { name: "x" } }, { count: 9 }])).toBe(true);
  });

  it("a write to another row of the model leaves a record-level read alone", () => {
    expect(evicts(userFive, ["User", "update", { where: { id: 6 }, data: { name: "x" } }, { id: 6 }])).toBe(false);
    expect(evicts(userFive, ["User", "create", { data: { email: "n@b.c" } }, { id: 6 }])).toBe(false);
  });

  it("a write anywhere in the model evicts model-level reads", () => {
    expect(
      evicts(
        ["User", "findMany", { where: { id: 5 } }],
        ["User", "update", { where: { id: 6 }, data: { name: "x" } }, { id: 6 }],
      ),
    ).toBe(true);
    expect(
      evicts(
        ["User", "findUnique", { where: { tenantId_email: { tenantId: 1, email: "a@b.c" } } }],
        ["User", "update", { where: { id: 6 }, data: { email: "a@b.c" } }, { id: 6 }],
      ),
    ).toBe(true);
  });

  it("a referential action evicts record-level reads of the rows it changes", () => {
    expect(evicts(userFive, ["Tenant", "delete", { where: { id: 1 } }, { id: 1 }])).toBe(true);
    expect(
      evicts(
        ["Membership", "findUnique", { where: { userId_groupId: { userId: 5, groupId: 1 } } }],
        ["Group", "delete", { where: { id: 1 } }, { id: 1 }],
      ),
    ).toBe(true);
    expect(
      evicts(["Post", "findUnique", { where: { id: 1 } }], ["User", "delete", { where: { id: 5 } }, { id: 5 }]),
    ).toBe(true);
  });

  it("a write to a related model evicts reads that reach it", () => {
    expect(
      evicts(
        ["Tag", "findUnique", { where: { id: 1 }, include: { posts: true } }],
        ["Post", "update", { where: { id: 3 }, data: { title: "x" } }, { id: 3 }],
      ),
    ).toBe(true);
    expect(
      evicts(
        ["Profile", "findUnique", { where: { id: 1 } }],
        ["User", "update", { where: { id: 5 }, data: { profile: { update: { bio: "x" } } } }, { id: 5 }],
      ),
    ).toBe(true);
    expect(
      evicts(
        ["User", "findUnique", { where: { id: 5 }, select: { _count: { select: { posts: true } } } }],
        ["Post", "create", { data: { authorId: 5 } }, { id: 9 }],
      ),
    ).toBe(true);
  });

  it("linking rows evicts every read that looks at the link, from either side", () => {
    const commentCreate: [string, string, unknown, unknown] = [
      "Comment",
      "create",
      { data: { body: "x", post: { connect: { id: 3 } }, author: { connect: { id: 5 } } } },
      { id: 40 },
    ];
    const userReadsOfComments: Array<[string, string, unknown]> = [
      ["User", "findUnique", { where: { id: 5 }, include: { comments: true } }],
      ["User", "findUnique", { where: { id: 5 }, select: { _count: { select: { comments: true } } } }],
      ["User", "findMany", { where: { comments: { some: { body: "x" } } } }],
      ["User", "findMany", { orderBy: { comments: { _count: "desc" } } }],
      ["Post", "findUnique", { where: { id: 3 }, include: { comments: true } }],
    ];
    for (const read of userReadsOfComments) expect(evicts(read, commentCreate), JSON.stringify(read)).toBe(true);
    const tagConnect: [string, string, unknown, unknown] = [
      "Post",
      "update",
      { where: { id: 1 }, data: { tags: { connect: { id: 2 } } } },
      { id: 1 },
    ];
    const readsOfTags: Array<[string, string, unknown]> = [
      ["Post", "findUnique", { where: { id: 1 }, include: { tags: true } }],
      ["Tag", "findUnique", { where: { id: 2 }, select: { _count: { select: { posts: true } } } }],
      ["Tag", "findMany", { where: { posts: { none: {} } } }],
      ["Post", "count", { where: { tags: { some: { name: "x" } } } }],
    ];
    for (const read of readsOfTags) expect(evicts(read, tagConnect), JSON.stringify(read)).toBe(true);
    // Moving comment 7 to user 6 (the foreign key is on Comment): the comment's own record-level read.
    expect(
      evicts(
        ["Comment", "findUnique", { where: { id: 7 }, include: { author: true } }],
        ["User", "update", { where: { id: 6 }, data: { comments: { connect: { id: 7 } } } }, { id: 6 }],
      ),
    ).toBe(true);
  });

  it("linking rows leaves alone the reads of rows that did not change", () => {
    const commentCreate: [string, string, unknown, unknown] = [
      "Comment",
      "create",
      { data: { body: "x", post: { connect: { id: 3 } }, author: { connect: { id: 5 } } } },
      { id: 40 },
    ];
    expect(writeTags(graph, ...commentCreate)).toEqual(tags("m:Comment", rec("Comment", [40])));
    expect(evicts(userFive, commentCreate)).toBe(false);
    expect(evicts(["User", "findMany", { where: { tenantId: 1 } }], commentCreate)).toBe(false);
    expect(evicts(["Post", "findMany", { include: { author: true } }], commentCreate)).toBe(false);
    const follow: [string, string, unknown, unknown] = [
      "Post",
      "update",
      { where: { id: 1 }, data: { tags: { connect: { id: 2 } } } },
      { id: 1 },
    ];
    expect(evicts(["Post", "findUnique", { where: { id: 1 } }], follow)).toBe(false);
    expect(evicts(["Post", "findMany", {}], follow)).toBe(false);
    expect(evicts(["Tag", "findMany", {}], follow)).toBe(false);
  });

  it("one-to-one: a connect from the foreign-key side also bumps rs: of its own model; from the other side, rs: of the related one", () => {
    // Another profile may have held user 5; which one is not known.
    expect(
      writeTags(graph, "Profile", "update", { where: { id: 1 }, data: { user: { connect: { id: 5 } } } }, { id: 1 }),
    ).toEqual(tags(rows("Profile"), rec("Profile", [1])));
    // The profile connected and the one user 5 had both change; only the first is named.
    expect(
      writeTags(graph, "User", "update", { where: { id: 5 }, data: { profile: { connect: { id: 1 } } } }, { id: 5 }),
    ).toEqual(tags(rows("Profile")));
  });

  it("an update linking rows still changes its own row when the model has an @updatedAt field", () => {
    const g = parseSchemaGraph(`
      model Article {
        id        Int      @id
        updatedAt DateTime @updatedAt
        tags      Label[]
      }
      model Label {
        id       Int       @id
        articles Article[]
      }
    `);
    expect(
      writeTags(g, "Article", "update", { where: { id: 1 }, data: { tags: { connect: { id: 2 } } } }, { id: 1 }),
    ).toEqual(tags("j:ArticleToLabel", "m:Article", rec("Article", [1], g)));
    expect(
      writeTags(g, "Label", "update", { where: { id: 2 }, data: { articles: { connect: { id: 1 } } } }, { id: 2 }),
    ).toEqual(["j:ArticleToLabel"]);
  });

  it("a record-level read of an unrelated row of another model is left alone", () => {
    expect(
      evicts(["Tag", "findUnique", { where: { id: 1 } }], ["Comment", "delete", { where: { id: 3 } }, { id: 3 }]),
    ).toBe(false);
  });

  it("BigInt keys: a read by number and a write returning a bigint name the same row", () => {
    const g = parseSchemaGraph("model Event {\n  id   BigInt @id\n  name String\n}\n");
    expect(
      evicts(
        ["Event", "findUnique", { where: { id: 42 } }],
        ["Event", "update", { where: { name: "x" }, data: { name: "y" } }, { id: 42n, name: "y" }],
        g,
      ),
    ).toBe(true);
  });

  it("UUID keys: a read in upper case and a write returning lower case name the same row", () => {
    const g = parseSchemaGraph(
      'datasource db {\n  provider = "postgresql"\n}\nmodel Doc {\n  id    String @id @db.Uuid\n  title String @unique\n}\n',
    );
    const read: [string, string, unknown] = [
      "Doc",
      "findUnique",
      { where: { id: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11" } },
    ];
    expect(readTags(g, ...read)).toContain(rec("Doc", ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"], g));
    expect(
      evicts(
        read,
        [
          "Doc",
          "update",
          { where: { title: "t" }, data: { title: "u" } },
          { id: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" },
        ],
        g,
      ),
    ).toBe(true);
  });

  it("case-insensitive string keys (MySQL) read at model level, so any write evicts them", () => {
    const g = parseSchemaGraph(
      'datasource db {\n  provider = "mysql"\n}\nmodel Account {\n  email String @id\n  name  String\n}\n',
    );
    expect(readTags(g, "Account", "findUnique", { where: { email: "ANN@X.COM" } })).toEqual(["m:Account"]);
    expect(
      evicts(
        ["Account", "findUnique", { where: { email: "ANN@X.COM" } }],
        ["Account", "update", { where: { email: "ann@x.com" }, data: { name: "y" } }, { email: "ann@x.com" }],
        g,
      ),
    ).toBe(true);
  });
});
