/**
 * The schema graph: what the parser reads from the Prisma schema (keys,
 * relations, which side holds the foreign key, referential actions with
 * Prisma's defaults), and which models the database's referential actions
 * reach. Facts are checked against our test schema (prisma/schema.prisma),
 * against Prisma's own runtime data model, and against small inline schemas
 * for the edge cases.
 */
import { readFileSync } from "node:fs";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { afterAll, describe, expect, it } from "vitest";
import {
  oppositeRelation,
  parseSchemaGraph,
  referencedFields,
  referentialReach,
  type RelationField,
  type SchemaGraph,
  type SchemaModel,
} from "../../../src/schema/schema-graph.ts";
import { PrismaClient } from "../../generated/sqlite/client.ts";

const SCHEMA_TEXT = readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8");
const graph = parseSchemaGraph(SCHEMA_TEXT);

function modelOf(g: SchemaGraph, name: string): SchemaModel {
  const model = g.models.get(name);
  if (model === undefined) throw new Error(`no model ${name}`);
  return model;
}

function relationOf(g: SchemaGraph, model: string, field: string): RelationField {
  const relation = modelOf(g, model).relations.get(field);
  if (relation === undefined) throw new Error(`no relation ${model}.${field}`);
  return relation;
}

const sorted = (set: Iterable<string>): string[] => [...set].sort();

/** A schema with a datasource, so that key kinds of String fields are decided. */
const withDatasource = (body: string, provider = "postgresql"): string =>
  `datasource db {\n  provider = "${provider}"\n}\n\n${body}`;

describe("the test schema: models and keys", () => {
  it("reads every model, and no enum, generator or datasource as a model", () => {
    expect(sorted(graph.models.keys())).toEqual([
      "Comment",
      "Group",
      "Membership",
      "Post",
      "Profile",
      "Tag",
      "Tenant",
      "User",
    ]);
    expect(graph.provider).toBe("postgresql");
  });

  it("lists scalar fields (enums, Json, Bytes, foreign keys included) and no relation fields", () => {
    expect(sorted(modelOf(graph, "User").scalarFields)).toEqual(
      [
        "avatar",
        "balance",
        "createdAt",
        "email",
        "id",
        "managerId",
        "name",
        "role",
        "settings",
        "tenantId",
        "visits",
      ].sort(),
    );
    expect(sorted(modelOf(graph, "Membership").scalarFields)).toEqual(["groupId", "joinedAt", "role", "userId"]);
  });

  it("reads single-field primary keys (@id) with their where name and key kind", () => {
    for (const name of ["Tenant", "User", "Profile", "Post", "Comment", "Tag", "Group"]) {
      expect(modelOf(graph, name).primaryKey, name).toEqual({ fields: ["id"], whereName: "id", keyKinds: ["integer"] });
    }
  });

  it("reads Membership's compound primary key (@@id) with Prisma's where name userId_groupId", () => {
    expect(modelOf(graph, "Membership").primaryKey).toEqual({
      fields: ["userId", "groupId"],
      whereName: "userId_groupId",
      keyKinds: ["integer", "integer"],
    });
  });

  it("reads unique constraints: single (@unique) and compound (@@unique) with their where names", () => {
    expect(modelOf(graph, "User").uniques).toEqual([{ fields: ["tenantId", "email"], whereName: "tenantId_email" }]);
    expect(modelOf(graph, "Post").uniques).toEqual([{ fields: ["tenantId", "slug"], whereName: "tenantId_slug" }]);
    expect(modelOf(graph, "Tenant").uniques).toEqual([{ fields: ["slug"], whereName: "slug" }]);
    expect(modelOf(graph, "Profile").uniques).toEqual([{ fields: ["userId"], whereName: "userId" }]);
    expect(modelOf(graph, "Tag").uniques).toEqual([{ fields: ["name"], whereName: "name" }]);
    expect(modelOf(graph, "Group").uniques).toEqual([{ fields: ["name"], whereName: "name" }]);
    expect(modelOf(graph, "Comment").uniques).toEqual([]);
  });
});

describe("the test schema: every relation", () => {
  // [model, field, expected]: both sides of every relation, so each fact is checked where it is declared and where it
  // is copied to.
  const cases: Array<[string, string, Partial<RelationField>]> = [
    // Tenant 1:n User, Cascade (declared on User.tenant)
    [
      "User",
      "tenant",
      {
        target: "Tenant",
        list: false,
        optional: false,
        relationName: "TenantToUser",
        holdsForeignKey: true,
        fields: ["tenantId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
        implicitManyToMany: false,
      },
    ],
    [
      "Tenant",
      "users",
      {
        target: "User",
        list: true,
        optional: false,
        relationName: "TenantToUser",
        holdsForeignKey: false,
        fields: [],
        references: [],
        onDelete: "Cascade",
        onUpdate: "Cascade",
        implicitManyToMany: false,
      },
    ],
    // Tenant 1:n Post, Cascade
    [
      "Post",
      "tenant",
      {
        target: "Tenant",
        relationName: "PostToTenant",
        holdsForeignKey: true,
        fields: ["tenantId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    [
      "Tenant",
      "posts",
      {
        target: "Post",
        list: true,
        relationName: "PostToTenant",
        holdsForeignKey: false,
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    // User.manager: self relation, named, SetNull
    [
      "User",
      "manager",
      {
        target: "User",
        list: false,
        optional: true,
        relationName: "Management",
        holdsForeignKey: true,
        fields: ["managerId"],
        references: ["id"],
        onDelete: "SetNull",
        onUpdate: "Cascade",
      },
    ],
    [
      "User",
      "reports",
      {
        target: "User",
        list: true,
        relationName: "Management",
        holdsForeignKey: false,
        onDelete: "SetNull",
        onUpdate: "Cascade",
      },
    ],
    // User 1:1 Profile, Cascade (Profile holds the key)
    [
      "Profile",
      "user",
      {
        target: "User",
        list: false,
        optional: false,
        relationName: "ProfileToUser",
        holdsForeignKey: true,
        fields: ["userId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    [
      "User",
      "profile",
      {
        target: "Profile",
        list: false,
        optional: true,
        relationName: "ProfileToUser",
        holdsForeignKey: false,
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    // Post.author: optional 1:n, SetNull
    [
      "Post",
      "author",
      {
        target: "User",
        list: false,
        optional: true,
        relationName: "PostToUser",
        holdsForeignKey: true,
        fields: ["authorId"],
        references: ["id"],
        onDelete: "SetNull",
        onUpdate: "Cascade",
      },
    ],
    [
      "User",
      "posts",
      {
        target: "Post",
        list: true,
        relationName: "PostToUser",
        holdsForeignKey: false,
        onDelete: "SetNull",
        onUpdate: "Cascade",
      },
    ],
    // Post n:m Tag, implicit (join table _PostToTag cascades both ways)
    [
      "Post",
      "tags",
      {
        target: "Tag",
        list: true,
        relationName: "PostToTag",
        holdsForeignKey: false,
        fields: [],
        references: [],
        onDelete: "Cascade",
        onUpdate: "Cascade",
        implicitManyToMany: true,
      },
    ],
    [
      "Tag",
      "posts",
      {
        target: "Post",
        list: true,
        relationName: "PostToTag",
        holdsForeignKey: false,
        fields: [],
        references: [],
        onDelete: "Cascade",
        onUpdate: "Cascade",
        implicitManyToMany: true,
      },
    ],
    // Comment: two Cascade paths
    [
      "Comment",
      "post",
      {
        target: "Post",
        relationName: "CommentToPost",
        holdsForeignKey: true,
        fields: ["postId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    [
      "Post",
      "comments",
      {
        target: "Comment",
        list: true,
        relationName: "CommentToPost",
        holdsForeignKey: false,
        onDelete: "Cascade",
        implicitManyToMany: false,
      },
    ],
    [
      "Comment",
      "author",
      {
        target: "User",
        relationName: "CommentToUser",
        holdsForeignKey: true,
        fields: ["authorId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    [
      "User",
      "comments",
      { target: "Comment", list: true, relationName: "CommentToUser", holdsForeignKey: false, onDelete: "Cascade" },
    ],
    // Membership: explicit many-to-many, both keys Cascade
    [
      "Membership",
      "user",
      {
        target: "User",
        relationName: "MembershipToUser",
        holdsForeignKey: true,
        fields: ["userId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    [
      "User",
      "memberships",
      {
        target: "Membership",
        list: true,
        relationName: "MembershipToUser",
        holdsForeignKey: false,
        onDelete: "Cascade",
        implicitManyToMany: false,
      },
    ],
    [
      "Membership",
      "group",
      {
        target: "Group",
        relationName: "GroupToMembership",
        holdsForeignKey: true,
        fields: ["groupId"],
        references: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ],
    [
      "Group",
      "memberships",
      {
        target: "Membership",
        list: true,
        relationName: "GroupToMembership",
        holdsForeignKey: false,
        onDelete: "Cascade",
      },
    ],
  ];

  it.each(cases)("%s.%s", (model, field, expected) => {
    expect(relationOf(graph, model, field)).toMatchObject({ name: field, ...expected });
  });

  it("has no relation beyond those", () => {
    const all = [...graph.models.values()].flatMap((model) =>
      [...model.relations.keys()].map((field) => `${model.name}.${field}`),
    );
    expect(all.sort()).toEqual(cases.map(([model, field]) => `${model}.${field}`).sort());
  });

  it("pairs each relation with its other side (a self relation with its other field)", () => {
    expect(oppositeRelation(graph, "User", relationOf(graph, "User", "manager"))?.name).toBe("reports");
    expect(oppositeRelation(graph, "User", relationOf(graph, "User", "reports"))?.name).toBe("manager");
    expect(oppositeRelation(graph, "Post", relationOf(graph, "Post", "author"))?.name).toBe("posts");
    expect(oppositeRelation(graph, "Tag", relationOf(graph, "Tag", "posts"))?.name).toBe("tags");
    expect(oppositeRelation(graph, "User", relationOf(graph, "User", "profile"))?.name).toBe("user");
  });

  it("knows which fields other rows reference (foreign-key references, and the primary key behind an implicit join table)", () => {
    expect(sorted(referencedFields(graph, "User"))).toEqual(["id"]);
    expect(sorted(referencedFields(graph, "Tag"))).toEqual(["id"]);
    expect(sorted(referencedFields(graph, "Comment"))).toEqual([]);
    expect(sorted(referencedFields(graph, "Membership"))).toEqual([]);
    expect(sorted(referencedFields(graph, "Nope"))).toEqual([]);
  });
});

describe("the test schema agrees with Prisma's own runtime data model", () => {
  // The SQLite client generated from the same schema carries the schema text and the data model Prisma derived from it.
  const client = new PrismaClient({ adapter: new PrismaLibSql({ url: ":memory:", intMode: "bigint" }) });
  afterAll(() => client.$disconnect());
  const internals = client as unknown as {
    _engineConfig: { inlineSchema: string };
    _runtimeDataModel: {
      models: Record<string, { fields: Array<{ name: string; kind: string; type: string; relationName?: string }> }>;
    };
  };

  it("parses the schema text the client carries (_engineConfig.inlineSchema)", () => {
    const fromClient = parseSchemaGraph(internals._engineConfig.inlineSchema);
    expect(fromClient.provider).toBe("sqlite");
    expect(sorted(fromClient.models.keys())).toEqual(sorted(graph.models.keys()));
  });

  it("has the same relations (names, targets) and scalar fields as the runtime data model", () => {
    const models = internals._runtimeDataModel.models;
    expect(sorted(Object.keys(models))).toEqual(sorted(graph.models.keys()));
    for (const [name, { fields }] of Object.entries(models)) {
      const model = modelOf(graph, name);
      for (const field of fields) {
        if (field.kind === "object") {
          expect(relationOf(graph, name, field.name), `${name}.${field.name}`).toMatchObject({
            target: field.type,
            relationName: field.relationName,
          });
        } else {
          expect(model.scalarFields.has(field.name), `${name}.${field.name}`).toBe(true);
        }
      }
      expect(model.scalarFields.size + model.relations.size).toBe(fields.length);
    }
  });
});

describe("referentialReach on the test schema", () => {
  it("Tenant delete cascades to User and Post, then through them to everything they cascade or set null", () => {
    // User (Cascade) -> Profile, Comment, Membership (Cascade), Post (Cascade from Tenant; SetNull from User), User
    // (self SetNull);
    // Post -> Comment (Cascade), Tag (implicit join rows).
    expect(sorted(referentialReach(graph, "Tenant", "delete"))).toEqual([
      "Comment",
      "Membership",
      "Post",
      "Profile",
      "Tag",
      "User",
    ]);
  });

  it("User delete reaches Profile, Comment, Membership (Cascade), Post (SetNull) and User itself (self SetNull of manager)", () => {
    expect(sorted(referentialReach(graph, "User", "delete"))).toEqual([
      "Comment",
      "Membership",
      "Post",
      "Profile",
      "User",
    ]);
  });

  it("Tag delete reaches Post through the implicit many-to-many join table", () => {
    expect(sorted(referentialReach(graph, "Tag", "delete"))).toEqual(["Post"]);
  });

  it("Post delete reaches Comment (Cascade) and Tag (join rows)", () => {
    expect(sorted(referentialReach(graph, "Post", "delete"))).toEqual(["Comment", "Tag"]);
  });

  it("Group delete reaches Membership", () => {
    expect(sorted(referentialReach(graph, "Group", "delete"))).toEqual(["Membership"]);
  });

  it("models nothing references reach nothing", () => {
    for (const name of ["Profile", "Comment", "Membership"])
      expect(sorted(referentialReach(graph, name, "delete")), name).toEqual([]);
  });

  it("an update of a referenced key follows onUpdate (Prisma's default Cascade)", () => {
    expect(sorted(referentialReach(graph, "User", "update"))).toEqual([
      "Comment",
      "Membership",
      "Post",
      "Profile",
      "User",
    ]);
    expect(sorted(referentialReach(graph, "Tenant", "update"))).toEqual(["Post", "User"]);
    expect(sorted(referentialReach(graph, "Tag", "update"))).toEqual(["Post"]);
  });

  it("an update of fields nobody references reaches nothing", () => {
    expect(sorted(referentialReach(graph, "User", "update", ["email", "name"]))).toEqual([]);
    expect(sorted(referentialReach(graph, "User", "update", ["id"]))).toEqual([
      "Comment",
      "Membership",
      "Post",
      "Profile",
      "User",
    ]);
  });

  it("an unknown model reaches nothing", () => {
    expect(sorted(referentialReach(graph, "Nope", "delete"))).toEqual([]);
  });

  it("returns the same answer when asked again (memoised per graph)", () => {
    expect(referentialReach(graph, "User", "delete")).toBe(referentialReach(graph, "User", "delete"));
  });
});

describe("referentialReach on inline schemas", () => {
  it("follows cascades transitively and terminates on cycles", () => {
    const g = parseSchemaGraph(`
      model A {
        id  Int  @id
        bId Int?
        b   B?   @relation("AB", fields: [bId], references: [id], onDelete: Cascade)
        cs  C[]
        bs  B[]  @relation("BA")
      }
      model B {
        id  Int  @id
        as  A[]  @relation("AB")
        cs  C[]  @relation("BC")
        aId Int?
        a   A?   @relation("BA", fields: [aId], references: [id], onDelete: Cascade)
      }
      model C {
        id  Int @id
        aId Int
        a   A   @relation(fields: [aId], references: [id], onDelete: Cascade)
        bId Int
        b   B   @relation("BC", fields: [bId], references: [id], onDelete: Cascade)
      }
    `);
    // B -> A (Cascade) -> C (Cascade) and B again (Cascade "BA"): a cycle, which reaches B itself and stops.
    expect(sorted(referentialReach(g, "B", "delete"))).toEqual(["A", "B", "C"]);
    expect(sorted(referentialReach(g, "A", "delete"))).toEqual(["A", "B", "C"]);
    expect(sorted(referentialReach(g, "C", "delete"))).toEqual([]);
  });

  it("ignores Restrict and NoAction, counts SetDefault", () => {
    const g = parseSchemaGraph(`
      model Parent {
        id Int     @id
        r  ChildR[]
        n  ChildN[]
        d  ChildD[]
      }
      model ChildR {
        id Int    @id
        pId Int
        p  Parent @relation(fields: [pId], references: [id], onDelete: Restrict, onUpdate: Restrict)
      }
      model ChildN {
        id Int    @id
        pId Int
        p  Parent @relation(fields: [pId], references: [id], onDelete: NoAction, onUpdate: NoAction)
      }
      model ChildD {
        id Int    @id
        pId Int   @default(0)
        p  Parent @relation(fields: [pId], references: [id], onDelete: SetDefault, onUpdate: SetDefault)
      }
    `);
    expect(sorted(referentialReach(g, "Parent", "delete"))).toEqual(["ChildD"]);
    expect(sorted(referentialReach(g, "Parent", "update"))).toEqual(["ChildD"]);
  });

  it("a SetNull of a foreign key that is itself referenced follows that key's onUpdate", () => {
    // Child's (parentId, code) is referenced by Grandchild; nulling parentId changes a referenced field.
    const g = parseSchemaGraph(`
      model Parent {
        id       Int     @id
        children Child[]
      }
      model Child {
        id        Int          @id
        parentId  Int?
        code      String
        parent    Parent?      @relation(fields: [parentId], references: [id], onDelete: SetNull)
        grandkids Grandchild[]
        @@unique([parentId, code])
      }
      model Grandchild {
        id        Int    @id
        parentId  Int?
        code      String?
        child     Child? @relation(fields: [parentId, code], references: [parentId, code], onUpdate: Cascade)
      }
    `);
    expect(sorted(referentialReach(g, "Parent", "delete"))).toEqual(["Child", "Grandchild"]);
    // Changing only `code` of Child reaches Grandchild; changing an unreferenced field does not.
    expect(sorted(referentialReach(g, "Child", "update", ["code"]))).toEqual(["Grandchild"]);
    expect(sorted(referentialReach(g, "Child", "update", ["id"]))).toEqual([]);
  });

  it("a self many-to-many reaches the model itself on delete", () => {
    const g = parseSchemaGraph(`
      model Person {
        id        Int      @id
        followers Person[] @relation("Follows")
        following Person[] @relation("Follows")
      }
    `);
    expect(relationOf(g, "Person", "followers")).toMatchObject({ implicitManyToMany: true, relationName: "Follows" });
    expect(oppositeRelation(g, "Person", relationOf(g, "Person", "followers"))?.name).toBe("following");
    expect(sorted(referentialReach(g, "Person", "delete"))).toEqual(["Person"]);
  });
});

describe("parser: referential action defaults and relation names", () => {
  const g = parseSchemaGraph(`
    model User {
      id       Int       @id
      required Post[]    @relation("required")
      optional Post[]    @relation(name: "optional")
      mixed    Post[]    @relation("mixed")
      explicit Post[]    @relation("explicit")
      plain    Comment[]
    }
    model Post {
      id          Int   @id
      reqId       Int
      req         User  @relation("required", fields: [reqId], references: [id])
      optId       Int?
      opt         User? @relation(name: "optional", fields: [optId], references: [id])
      mixA        Int?
      mixB        Int
      mixed       User  @relation("mixed", fields: [mixA, mixB], references: [id, id])
      explicitId  Int?
      explicit    User? @relation("explicit", fields: [explicitId], references: [id], onDelete: Cascade, onUpdate: NoAction)
    }
    model Comment {
      id     Int  @id
      userId Int
      user   User @relation(fields: [userId], references: [id])
    }
  `);

  it("a required foreign key defaults to onDelete Restrict, onUpdate Cascade", () => {
    expect(relationOf(g, "Post", "req")).toMatchObject({
      onDelete: "Restrict",
      onUpdate: "Cascade",
      holdsForeignKey: true,
    });
  });

  it("an optional foreign key defaults to onDelete SetNull", () => {
    expect(relationOf(g, "Post", "opt")).toMatchObject({ onDelete: "SetNull", onUpdate: "Cascade" });
  });

  it("a compound foreign key with one required field defaults to Restrict", () => {
    expect(relationOf(g, "Post", "mixed")).toMatchObject({ onDelete: "Restrict", fields: ["mixA", "mixB"] });
  });

  it("explicit actions win over defaults", () => {
    expect(relationOf(g, "Post", "explicit")).toMatchObject({ onDelete: "Cascade", onUpdate: "NoAction" });
  });

  it("the side without the foreign key carries the actions of the side with it", () => {
    expect(relationOf(g, "User", "required")).toMatchObject({
      onDelete: "Restrict",
      onUpdate: "Cascade",
      holdsForeignKey: false,
    });
    expect(relationOf(g, "User", "optional")).toMatchObject({ onDelete: "SetNull" });
    expect(relationOf(g, "User", "explicit")).toMatchObject({ onDelete: "Cascade", onUpdate: "NoAction" });
  });

  it("reads relation names given positionally or as name:", () => {
    expect(relationOf(g, "Post", "req").relationName).toBe("required");
    expect(relationOf(g, "Post", "opt").relationName).toBe("optional");
    expect(relationOf(g, "User", "optional").relationName).toBe("optional");
  });

  it("derives unnamed relation names as Prisma does: both model names, sorted, joined by To", () => {
    expect(relationOf(g, "Comment", "user").relationName).toBe("CommentToUser");
    expect(relationOf(g, "User", "plain").relationName).toBe("CommentToUser");
    const self = parseSchemaGraph(`
      model Node {
        id       Int    @id
        parentId Int?
        parent   Node?  @relation(fields: [parentId], references: [id])
        children Node[]
      }
    `);
    expect(relationOf(self, "Node", "parent")).toMatchObject({ relationName: "NodeToNode", onDelete: "SetNull" });
    expect(relationOf(self, "Node", "children")).toMatchObject({
      relationName: "NodeToNode",
      onDelete: "SetNull",
      implicitManyToMany: false,
    });
  });

  it("a one-sided list without a foreign key is not mistaken for an implicit many-to-many", () => {
    expect(relationOf(g, "User", "plain").implicitManyToMany).toBe(false);
  });
});

describe("parser: keys", () => {
  it("@@id with name: uses the name as the where input", () => {
    const g = parseSchemaGraph(`
      model Link {
        a Int
        b Int
        @@id([a, b], name: "pair")
      }
    `);
    expect(modelOf(g, "Link").primaryKey).toMatchObject({ fields: ["a", "b"], whereName: "pair" });
  });

  it("@@id(fields: [...]) and key fields with arguments (sort, length)", () => {
    const g = parseSchemaGraph(`
      model Link {
        a String
        b Int
        @@id(fields: [a(length: 10), b(sort: Desc)], map: "link_pk")
        @@unique([b(sort: Desc), a], name: "byB")
        @@unique([a])
      }
    `);
    expect(modelOf(g, "Link").primaryKey).toMatchObject({ fields: ["a", "b"], whereName: "a_b" });
    expect(modelOf(g, "Link").uniques).toEqual([
      { fields: ["b", "a"], whereName: "byB" },
      { fields: ["a"], whereName: "a" },
    ]);
  });

  it("a model keyed only by @unique has no primary key", () => {
    const g = parseSchemaGraph(`
      view Summary {
        key   String @unique
        total Int
      }
    `);
    expect(modelOf(g, "Summary").primaryKey).toBeUndefined();
    expect(modelOf(g, "Summary").uniques).toEqual([{ fields: ["key"], whereName: "key" }]);
  });

  it("decides key kinds from the field type, native type and provider", () => {
    const kinds = (provider: string | undefined, field: string): unknown => {
      const body = `model M {\n  id ${field} @id\n}`;
      return modelOf(parseSchemaGraph(provider === undefined ? body : withDatasource(body, provider)), "M").primaryKey
        ?.keyKinds;
    };
    expect(kinds("postgresql", "Int")).toEqual(["integer"]);
    expect(kinds("postgresql", "BigInt")).toEqual(["integer"]);
    expect(kinds("postgresql", "String")).toEqual(["exact"]);
    expect(kinds("sqlite", "String")).toEqual(["exact"]);
    expect(kinds("postgresql", "String @db.VarChar(36)")).toEqual(["exact"]);
    expect(kinds("postgresql", "String @db.Uuid")).toEqual(["uuid"]);
    expect(kinds("sqlserver", "String @db.UniqueIdentifier")).toEqual(["uuid"]);
    expect(kinds("mongodb", 'String @map("_id") @db.ObjectId')).toEqual(["uuid"]);
    // Case- or padding-insensitive comparisons: no record tags.
    expect(kinds("postgresql", "String @db.Citext")).toEqual(["inexact"]);
    expect(kinds("postgresql", "String @db.Char(10)")).toEqual(["inexact"]);
    expect(kinds("mysql", "String")).toEqual(["inexact"]);
    expect(kinds("sqlserver", "String")).toEqual(["inexact"]);
    expect(kinds(undefined, "String")).toEqual(["inexact"]);
    expect(kinds("postgresql", "DateTime")).toEqual(["inexact"]);
    expect(kinds("postgresql", "Decimal")).toEqual(["inexact"]);
    expect(kinds("postgresql", "Bytes")).toEqual(["exact"]);
  });
});

describe("parser: syntax", () => {
  it("ignores comments (even with braces and quotes), enums, composite types and generators; reads views as models", () => {
    const g = parseSchemaGraph(`
      // a } brace in a comment
      /// doc comment with { and "
      generator client {
        provider = "prisma-client"
        previewFeatures = ["views"]
      }
      datasource db {
        provider = "postgresql" // trailing comment
      }
      enum Role {
        ADMIN  @map("admin")
        MEMBER
      }
      type Address {
        street String
      }
      model Site {
        id      Int      @id @default(autoincrement()) // comment after attributes
        url     String   @default("http://example.com/{path}") /// a // inside a string is not a comment
        address Address?
        shape   Unsupported("polygon")?
        role    Role     @default(MEMBER)
        title   String   @db.VarChar(200)
        pages   Page[]

        @@index([
          url,
          title
        ])
        @@map("sites")
      }
      view Page {
        id     Int    @unique
        siteId Int
        site   Site   @relation(fields: [siteId], references: [id])
      }
    `);
    expect(sorted(g.models.keys())).toEqual(["Page", "Site"]);
    expect(g.provider).toBe("postgresql");
    expect(sorted(modelOf(g, "Site").scalarFields)).toEqual(["address", "id", "role", "shape", "title", "url"]);
    expect(relationOf(g, "Site", "pages")).toMatchObject({
      target: "Page",
      relationName: "PageToSite",
      onDelete: "Restrict",
    });
    expect(relationOf(g, "Page", "site")).toMatchObject({ target: "Site", holdsForeignKey: true });
  });

  it("reads an empty schema, and one without models", () => {
    expect(parseSchemaGraph("").models.size).toBe(0);
    expect(parseSchemaGraph("// nothing\n\nenum E {\n A\n}\n").models.size).toBe(0);
  });

  it("accepts Windows line endings and a byte-order mark", () => {
    const g = parseSchemaGraph(
      "\uFEFFmodel A {\r\n  id Int @id\r\n  b B[]\r\n}\r\nmodel B {\r\n  id Int @id\r\n  aId Int\r\n  a A @relation(fields: [aId], references: [id], onDelete: Cascade)\r\n}\r\n",
    );
    expect(relationOf(g, "B", "a")).toMatchObject({ onDelete: "Cascade", holdsForeignKey: true });
  });

  const broken: Array<[string, string, RegExp]> = [
    [
      "a block that is never closed",
      "model A {\n  id Int @id\n",
      /line 1\): unbalanced braces: `model A` is never closed/,
    ],
    ["a stray closing brace", "model A {\n  id Int @id\n}\n}\n", /line 4\): unbalanced braces/],
    ["a brace inside a block", "model A {\n  id Int @id {\n}\n", /line 2\): unbalanced braces/],
    ["an unclosed bracket", "model A {\n  a Int\n  @@id([a\n}\n", /unbalanced brackets/],
    ["an unterminated string", 'model A {\n  id String @id @default("x)\n}\n', /line 2\): unterminated string/],
    ["a field without a type", "model A {\n  id\n}\n", /line 2\): field `id` has no type/],
    [
      "an unknown referential action",
      "model A {\n  id Int @id\n  bId Int\n  b B @relation(fields: [bId], references: [id], onDelete: Explode)\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n",
      /line 4\): onDelete must be one of/,
    ],
    ["text outside blocks", "hello world\n", /line 1\): expected a block/],
    ["an unexpected character", "model A {\n  id Int @id;\n}\n", /line 2\): unexpected character/],
  ];

  it.each(broken)("throws a clear error for %s", (_name, text, message) => {
    expect(() => parseSchemaGraph(text)).toThrow(message);
    expect(() => parseSchemaGraph(text)).toThrow(/cannot parse the Prisma schema/);
  });
});
