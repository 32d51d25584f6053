/**
 * Guards for the private Prisma APIs in src/prisma/internals.ts. They fail
 * when a Prisma release changes what the library relies on: the marker of
 * an interactive transaction's client, and the runtime data model. SQLite,
 * so no service is needed.
 */
import { Prisma as PrismaExtension } from "@prisma/client/extension";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheError } from "../../src/index.js";
import { isTransactionClient, runtimeDataModel } from "../../src/prisma/internals.js";
import { createSqliteDatabase, sqliteClient, type BareClient } from "../helpers/clients.js";

let database: Awaited<ReturnType<typeof createSqliteDatabase>>;
let bare: BareClient;

beforeAll(async () => {
  database = await createSqliteDatabase("internals");
  bare = sqliteClient(database.file);
});

afterAll(async () => {
  await bare?.$disconnect();
  database?.remove();
});

/** A client with a model extension that reports what the cache extension sees as its parent client. */
function withParentProbe(client: BareClient) {
  return client.$extends({
    model: {
      $allModels: {
        parentIsTransactionClient<T>(this: T): boolean {
          const context = PrismaExtension.getExtensionContext(this) as unknown as { $parent: unknown };
          return isTransactionClient(context.$parent);
        },
      },
    },
  });
}

describe("isTransactionClient", () => {
  it("is true for the client of an interactive transaction, false for the normal client", async () => {
    expect(isTransactionClient(bare)).toBe(false);
    expect(await bare.$transaction(async (tx) => isTransactionClient(tx))).toBe(true);
  });

  it("is the same through an extended client", async () => {
    const extended = bare.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } });
    expect(isTransactionClient(extended)).toBe(false);
    expect(await extended.$transaction(async (tx) => isTransactionClient(tx))).toBe(true);
  });

  it("tells a model extension's $parent inside a transaction from the normal one", async () => {
    const probed = withParentProbe(bare);
    expect(probed.user.parentIsTransactionClient()).toBe(false);
    expect(await probed.$transaction(async (tx) => tx.user.parentIsTransactionClient())).toBe(true);
    // After the transaction, the normal client is not marked.
    expect(probed.user.parentIsTransactionClient()).toBe(false);
  });

  it("is false for things that are not clients", () => {
    for (const value of [undefined, null, {}, "client"]) expect(isTransactionClient(value)).toBe(false);
  });
});

describe("runtimeDataModel", () => {
  it("lists the schema's models with their fields", () => {
    const model = runtimeDataModel(bare);
    expect(Object.keys(model.models).sort()).toEqual(["Comment", "Group", "Membership", "Post", "Profile", "Tag", "Tenant", "User"]);
    const userFields = model.models.User?.fields ?? [];
    expect(userFields.map((field) => field.name)).toEqual(expect.arrayContaining(["id", "tenantId", "email", "balance", "visits", "avatar", "settings", "role", "posts", "memberships", "manager", "reports"]));
    const field = (name: string) => userFields.find((f) => f.name === name);
    expect(field("balance")).toMatchObject({ kind: "scalar", type: "Decimal" });
    expect(field("visits")).toMatchObject({ kind: "scalar", type: "BigInt" });
    expect(field("role")).toMatchObject({ kind: "enum", type: "Role" });
    expect(field("posts")).toMatchObject({ kind: "object", type: "Post" });
    expect(field("manager")).toMatchObject({ kind: "object", type: "User", relationName: "Management" });
  });

  it("is reachable from the client an extension receives, also over another extension", () => {
    const seen: string[][] = [];
    const probe = PrismaExtension.defineExtension((client) => {
      seen.push(Object.keys(runtimeDataModel(client).models));
      return client;
    });
    bare.$extends(probe);
    bare.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } }).$extends(probe);
    expect(seen).toHaveLength(2);
    for (const models of seen) expect(models).toContain("Membership");
  });

  it("throws E_PRISMA_INTERNALS for something that is not a client", () => {
    expect(() => runtimeDataModel({})).toThrow(CacheError);
    expect(() => runtimeDataModel({})).toThrow(/E_PRISMA_INTERNALS/);
  });
});
