/**
 * Guards for the private Prisma APIs in src/prisma/internals.ts. They fail
 * when a Prisma release changes what the library relies on: the marker of
 * an interactive transaction's client, the runtime data model, the relation
 * path of fluent calls and the second parameter of `query`, the error of a
 * commit after the transaction timeout, and a client member shadowing
 * `$extends`. SQLite, so no service is needed.
 */
import { Prisma as PrismaExtension } from "@prisma/client/extension";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheError } from "../../src/index.js";
import {
  commitFailure,
  fluentPathOf,
  isTransactionClient,
  queryWithoutFluentPath,
  runtimeDataModel,
  unpackFluentPath,
} from "../../src/prisma/internals.js";
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
    expect(Object.keys(model.models).sort()).toEqual([
      "Comment",
      "Group",
      "Membership",
      "Post",
      "Profile",
      "Tag",
      "Tenant",
      "User",
    ]);
    const userFields = model.models.User?.fields ?? [];
    expect(userFields.map((field) => field.name)).toEqual(
      expect.arrayContaining([
        "id",
        "tenantId",
        "email",
        "balance",
        "visits",
        "avatar",
        "settings",
        "role",
        "posts",
        "memberships",
        "manager",
        "reports",
      ]),
    );
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

describe("fluent writes: dataPath and query(args, params)", () => {
  /** A query extension that records what a write's hook sees, and re-runs it through the internals under test. */
  function fluentProbe(client: BareClient) {
    const seen: { path: readonly string[]; whole: unknown; unpacked: unknown }[] = [];
    const probed = client.$extends({
      query: {
        $allModels: {
          async update({ args, query, ...call }) {
            const path = fluentPathOf(call);
            if (path.length === 0) return query(args);
            const whole = await queryWithoutFluentPath({ ...call, query }, args);
            const unpacked = unpackFluentPath(whole, path);
            seen.push({ path, whole, unpacked });
            return unpacked;
          },
        },
      },
    });
    return { probed, seen };
  }

  it("a fluent write reaches the query component with its relation path, and can be run for the written row itself", async () => {
    const { probed, seen } = fluentProbe(bare);
    const tenant = await bare.tenant.create({ data: { slug: `fluent-${Date.now()}`, name: "Fluent" } });
    const user = await bare.user.create({
      data: { tenantId: tenant.id, email: "fluent@example.test", name: "Before" },
    });
    await bare.profile.create({ data: { userId: user.id, bio: "bio" } });

    const profile = await probed.user.update({ where: { id: user.id }, data: { name: "After" } }).profile();
    expect(profile).toMatchObject({ userId: user.id, bio: "bio" });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toEqual(["select", "profile"]);
    expect(seen[0]?.whole).toMatchObject({ profile: { userId: user.id } });

    // A chain of two relations: the path has both, and a null link ends it as Prisma does.
    const posts = await probed.user
      .update({ where: { id: user.id }, data: { name: "Again" } })
      .manager()
      .posts();
    expect(posts).toBeNull();
    expect(seen[1]?.path).toEqual(["select", "manager", "select", "posts"]);
  });

  it("the path is empty for every other call", () => {
    expect(fluentPathOf({ __internalParams: { dataPath: [] } })).toEqual([]);
    expect(fluentPathOf({})).toEqual([]);
    expect(fluentPathOf(undefined)).toEqual([]);
  });
});

describe("commitFailure: a commit Prisma refused after the timeout rolled the transaction back", () => {
  it("classifies the real error of an expired interactive transaction as rolled back", async () => {
    let error: unknown;
    try {
      await bare.$transaction(
        async (tx) => {
          await tx.tenant.count();
          await new Promise((resolve) => setTimeout(resolve, 300));
        },
        { timeout: 100 },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error, "Prisma rejects the commit of an expired transaction").toBeDefined();
    expect(commitFailure(error)).toBe("rolled-back");
  });

  it("leaves any other failure unknown", () => {
    expect(commitFailure(new Error("Connection terminated unexpectedly"))).toBe("unknown");
    expect(commitFailure({ code: "P2028", message: "Transaction API error: Transaction not found." })).toBe("unknown");
    expect(commitFailure(undefined)).toBe("unknown");
  });
});

describe("a client member named $extends takes the place of the client's own", () => {
  it("on the client and on clients derived from it, also through the function form; transaction clients have none", async () => {
    const seen: string[] = [];
    const original = (bare as unknown as { $extends(extension: unknown): unknown }).$extends;
    const members = {};
    Object.defineProperty(members, "$extends", {
      enumerable: true,
      value(this: unknown, extension: { name?: string } | ((client: unknown) => unknown)) {
        seen.push(typeof extension === "function" ? "function" : (extension.name ?? "unnamed"));
        return original.call(this, extension);
      },
    });
    const guarded = bare.$extends({ client: members });
    const derived = guarded.$extends({ name: "model-only", model: { user: { hello: () => "hello" } } });
    derived.$extends(PrismaExtension.defineExtension((client) => client.$extends({ name: "inner" })));
    expect(seen).toEqual(["model-only", "function", "inner"]);
    expect(derived.user.hello()).toBe("hello");
    expect(
      await guarded.$transaction(async (tx) => (tx as unknown as { $extends?: unknown }).$extends),
    ).toBeUndefined();
  });
});
