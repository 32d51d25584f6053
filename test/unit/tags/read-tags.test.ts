/**
 * Read tags: which tags each read shape depends on (docs/invalidation.md,
 * "Reads"), on the test schema. Each expectation is the complete, sorted tag
 * list, so a missing tag and a needless one both fail.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSchemaGraph } from "../../../src/schema/schema-graph.ts";
import { readTags } from "../../../src/tags/read-tags.ts";
import { primaryKeyTag } from "../../../src/tags/tag-names.ts";

const graph = parseSchemaGraph(readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8"));

/** The record tag of a row of the test schema. */
function rec(model: string, ...key: unknown[]): string {
  const schemaModel = graph.models.get(model);
  const tag = schemaModel && primaryKeyTag(schemaModel, key);
  if (tag === undefined) throw new Error(`no record tag for ${model} ${String(key)}`);
  return tag;
}

/** The expected tags, sorted as readTags returns them. */
const tags = (...list: string[]): string[] => [...list].sort();

describe("findUnique by primary key: record level", () => {
  it("{ id } depends on the row and rs:, not on m:", () => {
    expect(readTags(graph, "User", "findUnique", { where: { id: 5 } })).toEqual(tags(rec("User", 5), "rs:User"));
    expect(readTags(graph, "User", "findUniqueOrThrow", { where: { id: 5 } })).toEqual(tags(rec("User", 5), "rs:User"));
  });

  it("a compound primary key { userId_groupId: { userId, groupId } }", () => {
    expect(
      readTags(graph, "Membership", "findUnique", { where: { userId_groupId: { userId: 1, groupId: 2 } } }),
    ).toEqual(tags(rec("Membership", 1, 2), "rs:Membership"));
  });

  it("extra non-unique filters beside the key keep it record level", () => {
    expect(readTags(graph, "User", "findUnique", { where: { id: 5, name: "Ann" } })).toEqual(
      tags(rec("User", 5), "rs:User"),
    );
  });

  it("a relation reached from a record-level read still adds m:Related", () => {
    expect(readTags(graph, "User", "findUnique", { where: { id: 5 }, include: { posts: true } })).toEqual(
      tags(rec("User", 5), "rs:User", "m:Post"),
    );
    expect(readTags(graph, "User", "findUnique", { where: { id: 5, posts: { some: { published: true } } } })).toEqual(
      tags(rec("User", 5), "rs:User", "m:Post"),
    );
  });

  it("selecting scalars only adds nothing", () => {
    expect(readTags(graph, "User", "findUnique", { where: { id: 5 }, select: { id: true, name: true } })).toEqual(
      tags(rec("User", 5), "rs:User"),
    );
  });
});

describe("findUnique that is not by primary key: model level", () => {
  it("a non-primary unique key (single or compound)", () => {
    expect(readTags(graph, "Tag", "findUnique", { where: { name: "news" } })).toEqual(["m:Tag"]);
    expect(
      readTags(graph, "User", "findUnique", { where: { tenantId_email: { tenantId: 1, email: "a@b.c" } } }),
    ).toEqual(["m:User"]);
  });

  it("a filter object on the key ({ id: { equals: 5 } })", () => {
    expect(readTags(graph, "User", "findUnique", { where: { id: { equals: 5 } } })).toEqual(["m:User"]);
  });

  it("a compound key with a field missing", () => {
    expect(readTags(graph, "Membership", "findUnique", { where: { userId_groupId: { userId: 1 } } })).toEqual([
      "m:Membership",
    ]);
  });

  it("no where at all, or no arguments", () => {
    expect(readTags(graph, "User", "findUnique", {})).toEqual(["m:User"]);
    expect(readTags(graph, "User", "findUnique", undefined)).toEqual(["m:User"]);
    expect(readTags(graph, "User", "findUnique", null)).toEqual(["m:User"]);
  });
});

describe("other finds: model level", () => {
  it("findFirst/findMany by primary key still depend on m: (any row can enter the result)", () => {
    for (const operation of ["findFirst", "findFirstOrThrow", "findMany"]) {
      expect(readTags(graph, "User", operation, { where: { id: 5 } }), operation).toEqual(["m:User"]);
    }
  });

  it("cursor, distinct, take, skip and omit add nothing", () => {
    expect(
      readTags(graph, "User", "findMany", {
        cursor: { id: 5 },
        distinct: ["email"],
        take: 10,
        skip: 2,
        omit: { avatar: true },
      }),
    ).toEqual(["m:User"]);
  });
});

describe("include and select", () => {
  it("include: true adds the related model", () => {
    expect(readTags(graph, "Post", "findMany", { include: { author: true, tags: true } })).toEqual(
      tags("m:Post", "m:User", "m:Tag", "j:PostToTag"),
    );
  });

  it("include: false or undefined adds nothing", () => {
    expect(readTags(graph, "Post", "findMany", { include: { author: false, tags: undefined } })).toEqual(["m:Post"]);
  });

  it("nested include, several levels deep", () => {
    const args = {
      include: {
        posts: { include: { comments: { include: { author: { include: { profile: true } } } }, tags: true } },
      },
    };
    expect(readTags(graph, "Tenant", "findMany", args)).toEqual(
      tags("m:Tenant", "m:Post", "m:Comment", "m:User", "m:Profile", "m:Tag", "j:PostToTag"),
    );
  });

  it("relation fields in select, nested, next to scalars", () => {
    const args = {
      select: { name: true, profile: true, posts: { select: { title: true, tenant: { select: { slug: true } } } } },
    };
    expect(readTags(graph, "User", "findMany", args)).toEqual(tags("m:User", "m:Profile", "m:Post", "m:Tenant"));
  });

  it("a self relation adds the model itself (already there)", () => {
    expect(readTags(graph, "User", "findMany", { include: { manager: true, reports: true } })).toEqual(["m:User"]);
  });

  it("where and orderBy inside an included relation", () => {
    const args = {
      include: {
        posts: { where: { comments: { some: { body: { contains: "x" } } } }, orderBy: { tenant: { name: "asc" } } },
      },
    };
    expect(readTags(graph, "User", "findMany", args)).toEqual(tags("m:User", "m:Post", "m:Comment", "m:Tenant"));
  });
});

describe("_count", () => {
  it("_count: true counts every list relation (not the to-one ones)", () => {
    expect(readTags(graph, "Post", "findMany", { include: { _count: true } })).toEqual(
      tags("m:Post", "m:Comment", "m:Tag", "j:PostToTag"),
    );
    // User's lists: reports (User), posts, comments, memberships; profile and tenant are to-one.
    expect(readTags(graph, "User", "findMany", { select: { _count: true } })).toEqual(
      tags("m:User", "m:Post", "m:Comment", "m:Membership"),
    );
  });

  it("_count: { select } counts the named relations only", () => {
    expect(
      readTags(graph, "User", "findMany", { include: { _count: { select: { posts: true, comments: false } } } }),
    ).toEqual(tags("m:User", "m:Post"));
  });

  it("a where inside a counted relation adds the relations it filters on", () => {
    const args = { select: { _count: { select: { posts: { where: { tags: { some: { name: "news" } } } } } } } };
    expect(readTags(graph, "User", "findMany", args)).toEqual(tags("m:User", "m:Post", "m:Tag", "j:PostToTag"));
  });

  it("_count inside a nested include", () => {
    expect(
      readTags(graph, "Tenant", "findMany", {
        include: { users: { include: { _count: { select: { memberships: true } } } } },
      }),
    ).toEqual(tags("m:Tenant", "m:User", "m:Membership"));
  });
});

describe("relation filters in where", () => {
  it("list filters: some, every, none", () => {
    expect(readTags(graph, "User", "findMany", { where: { posts: { some: { published: true } } } })).toEqual(
      tags("m:User", "m:Post"),
    );
    expect(readTags(graph, "User", "findMany", { where: { posts: { every: { comments: { none: {} } } } } })).toEqual(
      tags("m:User", "m:Post", "m:Comment"),
    );
    expect(
      readTags(graph, "Tag", "findMany", { where: { posts: { none: { author: { is: { name: "x" } } } } } }),
    ).toEqual(tags("m:Tag", "m:Post", "m:User", "j:PostToTag"));
  });

  it("to-one filters: is, isNot, and null", () => {
    expect(
      readTags(graph, "Post", "findMany", { where: { author: { is: { tenant: { is: { slug: "a" } } } } } }),
    ).toEqual(tags("m:Post", "m:User", "m:Tenant"));
    expect(readTags(graph, "Post", "findMany", { where: { author: { isNot: null } } })).toEqual(
      tags("m:Post", "m:User"),
    );
    expect(readTags(graph, "Post", "findMany", { where: { author: null } })).toEqual(tags("m:Post", "m:User"));
  });

  it("the to-one shorthand ({ author: { name } }), nested", () => {
    expect(readTags(graph, "Comment", "findMany", { where: { post: { author: { profile: { bio: "x" } } } } })).toEqual(
      tags("m:Comment", "m:Post", "m:User", "m:Profile"),
    );
  });

  it("inside AND / OR arrays and a NOT object, at any depth", () => {
    const where = {
      AND: [{ title: "x" }, { OR: [{ tags: { some: {} } }, { NOT: { comments: { some: {} } } }] }],
      NOT: [{ tenant: { slug: "t" } }],
    };
    expect(readTags(graph, "Post", "findMany", { where })).toEqual(
      tags("m:Post", "m:Tag", "m:Comment", "m:Tenant", "j:PostToTag"),
    );
  });

  it("scalar filters add nothing", () => {
    expect(
      readTags(graph, "Post", "findMany", {
        where: { title: { contains: "x", mode: "insensitive" }, views: { gt: 1 }, authorId: 5 },
      }),
    ).toEqual(["m:Post"]);
  });
});

describe("orderBy by relations", () => {
  it("a to-one relation's field, and a chain of them", () => {
    expect(readTags(graph, "Post", "findMany", { orderBy: { author: { name: "asc" } } })).toEqual(
      tags("m:Post", "m:User"),
    );
    expect(
      readTags(graph, "Post", "findMany", { orderBy: [{ title: "asc" }, { author: { tenant: { name: "desc" } } }] }),
    ).toEqual(tags("m:Post", "m:User", "m:Tenant"));
  });

  it("a list relation's _count", () => {
    expect(readTags(graph, "User", "findMany", { orderBy: { posts: { _count: "desc" } } })).toEqual(
      tags("m:User", "m:Post"),
    );
  });

  it("scalar ordering adds nothing", () => {
    expect(
      readTags(graph, "Post", "findMany", { orderBy: [{ title: "asc" }, { rating: { sort: "desc", nulls: "last" } }] }),
    ).toEqual(["m:Post"]);
  });
});

describe("count, aggregate, groupBy", () => {
  it("depend on the model and the relations in where", () => {
    expect(readTags(graph, "User", "count", { where: { posts: { some: {} } } })).toEqual(tags("m:User", "m:Post"));
    expect(readTags(graph, "Post", "aggregate", { where: { tags: { some: {} } }, _avg: { views: true } })).toEqual(
      tags("m:Post", "m:Tag", "j:PostToTag"),
    );
    expect(
      readTags(graph, "Post", "groupBy", {
        by: ["published"],
        where: { author: { name: "x" } },
        _count: { _all: true },
      }),
    ).toEqual(tags("m:Post", "m:User"));
  });

  it("and on relations in orderBy", () => {
    expect(readTags(graph, "Post", "aggregate", { orderBy: { author: { name: "asc" } }, _count: true })).toEqual(
      tags("m:Post", "m:User"),
    );
    expect(readTags(graph, "Post", "count", { orderBy: { comments: { _count: "asc" } } })).toEqual(
      tags("m:Post", "m:Comment"),
    );
  });

  it("their _count and select count rows, not relations", () => {
    expect(readTags(graph, "User", "aggregate", { _count: true })).toEqual(["m:User"]);
    expect(readTags(graph, "User", "count", { select: { _all: true, name: true } })).toEqual(["m:User"]);
    expect(
      readTags(graph, "User", "groupBy", {
        by: ["role"],
        _count: { _all: true },
        having: { role: "ADMIN" },
        orderBy: { _count: { id: "desc" } },
      }),
    ).toEqual(["m:User"]);
  });

  it("are never record level, even by primary key", () => {
    expect(readTags(graph, "User", "count", { where: { id: 5 } })).toEqual(["m:User"]);
  });
});

describe("robustness", () => {
  it("an unknown model yields its model tag only", () => {
    expect(readTags(graph, "Nope", "findMany", { include: { posts: true } })).toEqual(["m:Nope"]);
  });

  it("unknown keys and unknown relation names are skipped", () => {
    expect(
      readTags(graph, "User", "findMany", {
        include: { nope: true },
        where: { nope: { some: {} } },
        orderBy: { nope: { x: "asc" } },
        whatever: { posts: true },
      }),
    ).toEqual(["m:User"]);
  });

  it("odd values where objects are expected do not throw", () => {
    const args = {
      where: { AND: "x", OR: [null, 1], posts: "x", author: 5 },
      include: { posts: 1, _count: "x" },
      select: null,
      orderBy: [null, "x", { author: "asc" }],
    };
    expect(readTags(graph, "Post", "findMany", args)).toEqual(tags("m:Post", "m:User"));
  });

  it("an unknown operation is walked like a find", () => {
    expect(readTags(graph, "User", "findFancy", { include: { posts: true } })).toEqual(tags("m:User", "m:Post"));
  });

  it("returns each tag once, sorted", () => {
    const result = readTags(graph, "User", "findMany", {
      include: { posts: true },
      where: { posts: { some: {} } },
      orderBy: { posts: { _count: "asc" } },
    });
    expect(result).toEqual(["m:Post", "m:User"]);
  });
});
