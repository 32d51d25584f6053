/**
 * Another extension before and after the cache. The cache answers model
 * operations before Prisma's query pipeline and calls the client below it,
 * so a `query` hook that rewrites `where` (a tenant filter, row-level
 * security) must be applied before it, where it runs for every database
 * read and write, and is refused after it, where Prisma would never run it.
 * SQLite and the in-process tier: no service needed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheError, cacheExtension } from "../../src/index.js";
import { Prisma } from "../generated/sqlite/client.ts";
import { createSqliteDatabase, sqliteClient, type BareClient } from "../helpers/clients.js";
import { catchCacheError } from "../unit/support/cache-error.js";

let database: Awaited<ReturnType<typeof createSqliteDatabase>>;
let bare: BareClient;
const tenants: number[] = [];
let current = 0;

/**
 * A query extension that scopes every User operation to the current tenant by rewriting `where`, as a
 * row-level-security extension would.
 */
const tenantFilter = Prisma.defineExtension({
  name: "tenant-filter",
  query: {
    user: {
      $allOperations({ args, query }) {
        const scoped = args as { where?: object };
        if ("where" in scoped || scoped.where !== undefined) scoped.where = { ...scoped.where, tenantId: current };
        return query(args);
      },
    },
  },
});

beforeAll(async () => {
  database = await createSqliteDatabase("extension-order");
  bare = sqliteClient(database.file);
  for (const slug of ["one", "two"]) {
    const tenant = await bare.tenant.create({ data: { slug, name: slug } });
    tenants.push(tenant.id);
    await bare.user.create({ data: { tenantId: tenant.id, email: `${slug}@example.test`, name: `User of ${slug}` } });
  }
});

afterAll(async () => {
  await bare?.$disconnect();
  database?.remove();
});

describe("a where-rewriting query extension applied before the cache", () => {
  it("runs for cached reads' misses, uncached reads and writes; context keeps the tenants' entries apart", async () => {
    const prisma = bare.$extends(tenantFilter).$extends(cacheExtension({ context: () => ({ tenant: current }) }));
    const names = () => prisma.user.findMany({ where: {}, select: { name: true }, cache: true });
    for (const [index, tenant] of tenants.entries()) {
      current = tenant;
      const expected = [{ name: `User of ${index === 0 ? "one" : "two"}` }];
      expect(await names(), "a miss goes through the filter").toEqual(expected);
      expect(await names(), "a hit, under this tenant's key").toEqual(expected);
      expect(await prisma.user.findMany({ where: {}, select: { name: true } }), "uncached").toEqual(expected);
    }
    current = tenants[0] as number;
    // A write the filter confines to tenant one: tenant two's row is untouched.
    await prisma.user.updateMany({ where: {}, data: { name: "Renamed" } });
    expect(await names()).toEqual([{ name: "Renamed" }]);
    current = tenants[1] as number;
    expect(await names()).toEqual([{ name: "User of two" }]);
    expect(prisma.$cache.stats()).toMatchObject({ l1Hits: 2 });
  });
});

describe("an extension applied after the cache", () => {
  const cached = () => bare.$extends(cacheExtension());

  it("with query hooks on models: refused by $extends with E_EXTENSION_ORDER, naming the extension and the fix", () => {
    const error = catchCacheError(() => cached().$extends(tenantFilter), "E_EXTENSION_ORDER");
    expect(error.message).toContain('"tenant-filter"');
    expect(error.message).toContain(
      "Apply cacheExtension last: prisma.$extends(yourExtension).$extends(cacheExtension(options))",
    );
  });

  it("refused in every form: object, the function form, $allModels, a top-level $allOperations, result fields, after another extension", () => {
    const hook = ({ args, query }: { args: unknown; query: (args: unknown) => Promise<unknown> }) => query(args);
    const forms: Record<string, (client: ReturnType<typeof cached>) => unknown> = {
      "function form": (client) =>
        client.$extends(
          Prisma.defineExtension((inner) => inner.$extends({ query: { $allModels: { findMany: hook } } })),
        ),
      "$allModels.$allOperations": (client) => client.$extends({ query: { $allModels: { $allOperations: hook } } }),
      "top-level $allOperations": (client) => client.$extends({ query: { $allOperations: hook } }),
      "result fields": (client) =>
        client.$extends({
          result: { user: { shout: { needs: { name: true }, compute: (user) => user.name?.toUpperCase() } } },
        }),
      "after a model extension": (client) =>
        client
          .$extends({ model: { user: { hello: () => "hello" } } })
          .$extends({ query: { user: { findMany: hook } } }),
      "a second cacheExtension": (client) => client.$extends(cacheExtension()),
      "a top-level operation hook (runs for every model)": (client) =>
        client.$extends({ query: { findMany: hook } as object }),
      "hooks inherited from a prototype": (client) =>
        client.$extends({ query: Object.create({ $allModels: { $allOperations: hook } }) as object }),
      "hooks behind a getter": (client) =>
        client.$extends({ query: Object.defineProperty({}, "user", { get: () => ({ findMany: hook }) }) }),
      "result fields inherited from a prototype": (client) =>
        client.$extends({
          result: Object.create({ user: { shout: { needs: { name: true }, compute: () => "!" } } }) as object,
        }),
    };
    for (const [form, extend] of Object.entries(forms)) {
      expect(catchCacheError(() => extend(cached()), "E_EXTENSION_ORDER").message, form).toMatch(/cacheExtension/);
    }
  });

  it("with only model methods, client members or raw-query hooks: accepted, and they run", async () => {
    const seen: string[] = [];
    const prisma = cached()
      .$extends({ model: { user: { tenantsOf: () => tenants.length } } })
      .$extends({ client: { $hello: () => "hello" } })
      .$extends({
        query: {
          $queryRaw({ args, query }) {
            seen.push("queryRaw");
            return query(args);
          },
        },
      });
    expect(prisma.user.tenantsOf()).toBe(2);
    expect(prisma.$hello()).toBe("hello");
    expect(await prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1n }]);
    expect(seen).toEqual(["queryRaw"]);
    expect(await prisma.user.count({ cache: true })).toBe(2);
    expect(prisma.$cache.stats().misses).toBe(1);
  });

  it("is a CacheError thrown at $extends, before any query runs", () => {
    expect(() => cached().$extends(tenantFilter)).toThrow(CacheError);
  });
});
