/**
 * Canaries for the private Prisma APIs in src/prisma/internals.ts: one
 * `describe` per API, titled with the API's own name, so that when a Prisma
 * release changes one, the failing test names what changed. The table
 * below lists every export of internals.ts with its API, and a test fails
 * when an export has no canary. SQLite, so no service is needed.
 */
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { Prisma as PrismaExtension } from "@prisma/client/extension";
import { AnyNull, DbNull, JsonNull, NullTypes } from "@prisma/client/runtime/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheError } from "../../src/index.js";
import * as internals from "../../src/prisma/internals.js";
import {
  commitFailure,
  fluentPathOf,
  globalOmit,
  inlineSchema,
  isTransactionClient,
  modelProperty,
  objectEnumName,
  observeTransactions,
  PRISMA_PROMISE_TAG,
  promiseSpec,
  queryWithoutFluentPath,
  requestTransaction,
  runtimeDataModel,
  transactionOf,
  unpackFluentPath,
  writeMayHaveCommitted,
  type QueryTransaction,
} from "../../src/prisma/internals.js";
import { PrismaClient as SqlitePrismaClient } from "../generated/sqlite/client.ts";
import { createSqliteDatabase, sqliteClient, type BareClient } from "../helpers/clients.js";

/** The private Prisma API behind each export of internals.ts: the title of its canary below. */
const API = {
  isTransactionClient: 'the transaction scope symbol `Symbol.for("prisma.client.transaction.scope_context")`',
  runtimeDataModel: "`_runtimeDataModel`",
  globalOmit: "`_globalOmit`",
  transactionOf: "`__internalParams.transaction` of a query component call",
  fluentPathOf: "`__internalParams.dataPath` and `query(args, params)` of a fluent write",
  queryWithoutFluentPath: "`__internalParams.dataPath` and `query(args, params)` of a fluent write",
  unpackFluentPath: "`__internalParams.dataPath` and `query(args, params)` of a fluent write",
  commitFailure: "P2028 with `meta.timeout`: the error of a commit after the transaction timeout",
  writeMayHaveCommitted:
    "the error names `PrismaClientValidationError` and `PrismaClientKnownRequestError`, its `code` and `meta.driverAdapterError.cause` (kind, SQLSTATE, severity) of writes the database refused",
  inlineSchema: "`_engineConfig.inlineSchema`",
  observeTransactions: "`_engine.transaction(action, headers, info)`",
  PRISMA_PROMISE_TAG: "the batch protocol of `$transaction([...])`: `PrismaPromise`, `requestTransaction`, `spec`",
  requestTransaction: "the batch protocol of `$transaction([...])`: `PrismaPromise`, `requestTransaction`, `spec`",
  promiseSpec: "the batch protocol of `$transaction([...])`: `PrismaPromise`, `requestTransaction`, `spec`",
  objectEnumName: "`_getName()` of the null sentinels `Prisma.DbNull`, `JsonNull`, `AnyNull`",
  modelProperty: "the delegate naming rule (`User` -> `prisma.user`)",
} as const;

describe("every private Prisma API in internals.ts has a canary here", () => {
  it("lists each export of internals.ts in the table of APIs", () => {
    const exported = Object.keys(internals).sort();
    expect(exported, "an export of src/prisma/internals.ts without a canary in this file").toEqual(
      Object.keys(API).sort(),
    );
  });
});

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

describe(API.isTransactionClient, () => {
  it("is true for the client of an interactive transaction, false for the normal client", async () => {
    expect(isTransactionClient(bare)).toBe(false);
    expect(
      await bare.$transaction(async (tx) => isTransactionClient(tx)),
      `${API.isTransactionClient} no longer marks the client of an interactive transaction`,
    ).toBe(true);
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

describe(API.runtimeDataModel, () => {
  it("lists the schema's models with their fields", () => {
    const model = runtimeDataModel(bare);
    expect(Object.keys(model.models).sort(), `${API.runtimeDataModel} no longer lists the models`).toEqual([
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

describe(API.fluentPathOf, () => {
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
    expect(seen[0]?.path, `${API.fluentPathOf}: the relation path changed`).toEqual(["select", "profile"]);
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

describe(API.commitFailure, () => {
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
    expect(commitFailure(error), `${API.commitFailure}: the error changed`).toBe("rolled-back");
  });

  it("leaves any other failure unknown", () => {
    expect(commitFailure(new Error("Connection terminated unexpectedly"))).toBe("unknown");
    expect(commitFailure({ code: "P2028", message: "Transaction API error: Transaction not found." })).toBe("unknown");
    expect(commitFailure(undefined)).toBe("unknown");
  });
});

describe(API.writeMayHaveCommitted, () => {
  it("knows the real errors of writes that committed nothing: a constraint violation, a missing row, a validation error", async () => {
    const tenant = await bare.tenant.create({ data: { slug: `internals-${Date.now()}`, name: "t" } });
    try {
      const refused = await Promise.all([
        bare.tenant.create({ data: { slug: tenant.slug, name: "duplicate" } }).catch((error: unknown) => error),
        bare.tenant.update({ where: { id: -1 }, data: { name: "nobody" } }).catch((error: unknown) => error),
        bare.tenant.update({ where: { id: "x" as never }, data: { name: "invalid" } }).catch((error: unknown) => error),
        bare
          .$executeRawUnsafe(`INSERT INTO "Tenant" (slug, name) VALUES ('${tenant.slug}', 'raw duplicate')`)
          .catch((error: unknown) => error),
      ]);
      for (const error of refused) {
        expect(error, "the write failed").toBeInstanceOf(Error);
        expect(writeMayHaveCommitted(error), `${API.writeMayHaveCommitted}: ${(error as Error).name}`).toBe(false);
      }
    } finally {
      await bare.tenant.delete({ where: { id: tenant.id } });
    }
  });

  it("counts any other failure as maybe committed", () => {
    expect(writeMayHaveCommitted(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(writeMayHaveCommitted({ name: "PrismaClientKnownRequestError", code: "P1017" })).toBe(true);
    expect(writeMayHaveCommitted({ name: "PrismaClientKnownRequestError", code: "P2028" })).toBe(true);
    const wrapping = (code: string, cause: object) => ({
      name: "PrismaClientKnownRequestError",
      code,
      meta: { driverAdapterError: { cause } },
    });
    expect(writeMayHaveCommitted(wrapping("P2010", { kind: "ConnectionClosed" })), "a raw write reset").toBe(true);
    expect(
      writeMayHaveCommitted(wrapping("P2039", { kind: "postgres", code: "57P01", severity: "FATAL" })),
      "a FATAL answer",
    ).toBe(true);
    expect(writeMayHaveCommitted(undefined)).toBe(true);
  });
});

describe("a `client` component member named `$extends` takes the place of the client's own (prisma/extension-order.ts)", () => {
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

describe(API.globalOmit, () => {
  it("is the client's `omit` option, on the client an extension receives too; undefined without one", async () => {
    const omit = { user: { email: true } };
    const omitting = new SqlitePrismaClient({
      adapter: new PrismaLibSql({ url: `file:${database.file}`, intMode: "bigint" }),
      omit,
    });
    try {
      expect(globalOmit(omitting), `${API.globalOmit} no longer holds the client's omit option`).toEqual(omit);
      let seen: unknown;
      omitting.$extends(
        PrismaExtension.defineExtension((client) => {
          seen = globalOmit(client);
          return client;
        }),
      );
      expect(seen, `${API.globalOmit} is not on the client an extension receives`).toEqual(omit);
      expect(globalOmit(bare)).toBeUndefined();
    } finally {
      await omitting.$disconnect();
    }
  });
});

describe(API.inlineSchema, () => {
  it("is the schema text the client was generated from, on the client an extension receives too", () => {
    const schema = inlineSchema(bare);
    expect(schema, `${API.inlineSchema} no longer holds the schema text`).toMatch(/model User \{/);
    let seen: string | undefined;
    bare.$extends(
      PrismaExtension.defineExtension((client) => {
        seen = inlineSchema(client);
        return client;
      }),
    );
    expect(seen).toBe(schema);
  });

  it("throws E_PRISMA_INTERNALS naming it for something that is not a client", () => {
    expect(() => inlineSchema({})).toThrow(CacheError);
    expect(() => inlineSchema({})).toThrow(/_engineConfig\.inlineSchema/);
  });
});

/** A client whose query component records the transaction of every call, as the write side reads it. */
function transactionProbe(client: BareClient) {
  const seen: (QueryTransaction | undefined)[] = [];
  const probed = client.$extends({
    query: {
      $allModels: {
        $allOperations({ args, query, ...call }) {
          seen.push(transactionOf(call));
          return query(args);
        },
      },
    },
  });
  return { probed, seen };
}

describe(API.transactionOf, () => {
  it("is undefined outside transactions, the batch of $transaction([...]) and the interactive transaction inside one", async () => {
    const { probed, seen } = transactionProbe(bare);
    await probed.tenant.count();
    await probed.$transaction([probed.tenant.count()]);
    await probed.$transaction(async (tx) => tx.tenant.count());
    expect(seen, `${API.transactionOf} changed`).toEqual([
      undefined,
      expect.objectContaining({ kind: "batch" }),
      expect.objectContaining({ kind: "itx" }),
    ]);
    for (const transaction of seen.slice(1)) expect(["string", "number"]).toContain(typeof transaction?.id);
  });
});

describe(API.observeTransactions, () => {
  it("sees an interactive transaction start and commit, and another start and roll back, with the same id", async () => {
    const events: string[] = [];
    const ids = new Set<string>();
    const stop = observeTransactions(bare, {
      started: (id) => {
        ids.add(id);
        events.push("started");
      },
      committing: async (id, outcome) => {
        ids.add(id);
        events.push(`committing ${outcome}`);
      },
      rolledBack: (id) => {
        ids.add(id);
        events.push("rolled back");
      },
    });
    try {
      await bare.$transaction(async (tx) => tx.tenant.count());
      expect(ids.size, `${API.observeTransactions}: one transaction, one id`).toBe(1);
      await expect(
        bare.$transaction(async (tx) => {
          await tx.tenant.count();
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
    } finally {
      stop();
    }
    expect(events, `${API.observeTransactions} no longer tells start, commit and rollback`).toEqual([
      "started",
      "committing committed",
      "started",
      "rolled back",
    ]);
    expect(ids.size).toBe(2);
  });

  it("throws E_PRISMA_INTERNALS naming it for something that is not a client", () => {
    const nobody = { started: () => undefined, committing: async () => undefined, rolledBack: () => undefined };
    expect(() => observeTransactions({}, nobody)).toThrow(/_engine\.transaction/);
  });
});

describe(API.PRISMA_PROMISE_TAG, () => {
  it("a read returns a promise tagged PrismaPromise, carrying its spec", () => {
    const read = bare.user.count({ where: { id: 1 } });
    expect(read[Symbol.toStringTag], "the Symbol.toStringTag of a Prisma read changed").toBe(PRISMA_PROMISE_TAG);
    expect(promiseSpec(read), "the `spec` of a PrismaPromise changed").toEqual({
      model: "User",
      action: "count",
      args: { where: { id: 1 } },
    });
  });

  it("$transaction([...]) refuses an element without the tag", async () => {
    const untagged = Promise.resolve(0) as unknown as ReturnType<BareClient["user"]["count"]>;
    // Thrown at once today; an async wrapper takes a rejection too.
    await expect(
      (async () => bare.$transaction([untagged]))(),
      "$transaction([...]) no longer checks the tag",
    ).rejects.toThrow(/Prisma Client promises/);
  });

  it("$transaction([...]) hands each element the batch through requestTransaction, and runs what it returns in it", async () => {
    const batches: unknown[] = [];
    const { probed, seen: inside } = transactionProbe(bare);
    const inner = probed.tenant.count();
    const element = {
      [Symbol.toStringTag]: PRISMA_PROMISE_TAG,
      then: (resolve: (value: unknown) => unknown, reject: (reason: unknown) => unknown) => inner.then(resolve, reject),
      requestTransaction(batch: unknown) {
        batches.push(batch);
        return requestTransaction(inner, batch);
      },
    } as unknown as ReturnType<BareClient["tenant"]["count"]>;
    const [count] = await bare.$transaction([element]);
    expect(count).toBe(await bare.tenant.count());
    expect(batches, "$transaction([...]) no longer calls requestTransaction(batch)").toEqual([
      expect.objectContaining({ kind: "batch" }),
    ]);
    expect(inside[0], "the query handed the batch did not run in it").toMatchObject({
      kind: "batch",
      id: (batches[0] as { id: unknown }).id,
    });
  });
});

describe(API.objectEnumName, () => {
  it("names the sentinels and their `new NullTypes.X()` instances as Prisma sends them", () => {
    expect(objectEnumName(DbNull), `${API.objectEnumName} changed`).toBe("DbNull");
    expect(objectEnumName(JsonNull)).toBe("JsonNull");
    expect(objectEnumName(AnyNull)).toBe("AnyNull");
    expect(objectEnumName(new NullTypes.DbNull())).toBe("DbNull");
  });

  it("is undefined for any other object", () => {
    for (const value of [{}, new Date(0), [], { _getName: () => "DbNull" }])
      expect(objectEnumName(value)).toBeUndefined();
  });
});

describe(API.modelProperty, () => {
  it("names the client property of every model of the schema", () => {
    const client = bare as unknown as Record<string, { findUnique?: unknown } | undefined>;
    for (const model of Object.keys(runtimeDataModel(bare).models)) {
      expect(
        typeof client[modelProperty(model)]?.findUnique,
        `${API.modelProperty}: no prisma.${modelProperty(model)}`,
      ).toBe("function");
    }
  });
});
