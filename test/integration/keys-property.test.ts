/**
 * Property-based tests (fast-check) through a real Prisma client on SQLite,
 * with the in-process tier and, when Redis is there, with the shared tier
 * alone (entries then go through the serializer):
 *
 * - no result reaches another context: random sequences of reads, each in a
 *   random context (four tenants, and a second dimension with hostile
 *   values: `__proto__`, `constructor`, separators, a long string), return
 *   exactly what the database returns for that tenant, hit or miss;
 * - hostile JSON (`__proto__`, `constructor`, `prototype` keys, at any
 *   depth) written to a `Json` column comes back from the cache exactly as
 *   the database returns it (own properties kept, no prototype changed),
 *   and no built-in prototype gains a property.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Redis } from "ioredis";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheExtensionOptions } from "../../src/index.js";
import type { BareClient, CachedPrisma } from "../helpers/clients.js";
import { cachedClient, createSqliteDatabase, ErrorLog, sqliteClient } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { createScratchUser, seedFixture, type Fixture } from "../helpers/fixture.js";
import { connectRedis, deleteKeysUnder } from "../helpers/services.js";

interface Scope {
  tenantId: number;
  role: string;
}

/** The tenant a read runs for, and a dimension that shapes nothing but the key. */
const scope = new AsyncLocalStorage<Scope>();
const HOSTILE_ROLES = ["__proto__", "constructor", "", "a|b", 'q"}{', "x".repeat(10_000), "admin"];

/** The reads of the property: every one names the same rows in every tenant (the fixtures share emails). */
const READS = [
  { op: "findMany", args: { where: { email: { contains: "example" } }, orderBy: { id: "asc" } } },
  { op: "findMany", args: { where: { role: "MEMBER" }, select: { id: true, tenantId: true, name: true } } },
  { op: "findFirst", args: { where: { email: "alice@example.test" }, select: { id: true, tenantId: true } } },
  { op: "findFirst", args: { where: { email: "bob@example.test" } } },
  { op: "count", args: { where: { email: { endsWith: ".test" } } } },
] as const;

/** Objects with hostile keys at any depth, as JSON.parse makes them (own `__proto__` properties). */
const hostileJson = fc
  .letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(
        fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom("__proto__", "constructor", "prototype", "toString")),
        tie("value"),
        { maxKeys: 3 },
      ),
    ),
  }))
  .value.map((value) => JSON.parse(JSON.stringify(value)) as unknown);

/** Reads the cache answered so far. */
function hitsOf(prisma: CachedPrisma): number {
  const stats = prisma.$cache.stats();
  return stats.l1Hits + stats.l2Hits;
}

/** The own property names of the built-in prototypes. */
function prototypeSnapshot(): string[][] {
  return [Object.prototype, Array.prototype, Function.prototype].map((proto) =>
    Reflect.ownKeys(proto).map(String).sort(),
  );
}

describe("property: contexts and hostile values through a real client (SQLite)", () => {
  let database: Awaited<ReturnType<typeof createSqliteDatabase>>;
  let bare: BareClient;
  const fixtures: Fixture[] = [];
  let tenants: number[] = [];
  let before: string[][];

  beforeAll(async () => {
    before = prototypeSnapshot();
    database = await createSqliteDatabase("keys-property");
    bare = sqliteClient(database.file);
    for (const label of ["kp-one", "kp-two"]) fixtures.push(await seedFixture(bare, label, "1234567.125"));
    tenants = fixtures.flatMap((fixture) => [fixture.tenantId, fixture.otherTenantId]);
  });

  afterAll(async () => {
    await bare?.$disconnect();
    database?.remove();
    expect(prototypeSnapshot(), "no built-in prototype gained or lost a property").toEqual(before);
  });

  /** A cached client whose reads are scoped to the current tenant below the cache, keyed by both dimensions. */
  async function scopedClient(
    options: Partial<CacheExtensionOptions>,
  ): Promise<{ prisma: CachedPrisma; log: ErrorLog }> {
    const log = new ErrorLog();
    const { prisma } = await cachedClient(
      bare,
      {
        context: () => ({ tenantId: scope.getStore()?.tenantId, role: scope.getStore()?.role }),
        defaults: { ttl: 600, negativeTtl: 600 },
        onError: log.onError,
        ...options,
      },
      { scopeUsersToTenant: () => scope.getStore()?.tenantId ?? -1 },
    );
    return { prisma, log };
  }

  /** What the database returns for `read` in `tenantId`, asked directly. */
  function truth(read: (typeof READS)[number], tenantId: number): Promise<unknown> {
    const args = { ...read.args, where: { ...read.args.where, tenantId } };
    const user = bare.user as unknown as Record<string, (args: object) => Promise<unknown>>;
    return (user[read.op] as (args: object) => Promise<unknown>)(args);
  }

  const step = fc.record({
    tenant: fc.nat(3),
    role: fc.constantFrom(...HOSTILE_ROLES),
    read: fc.nat(READS.length - 1),
  });

  /** Runs the context property on `prisma`: each read answers what the database answers for its own tenant. */
  async function noResultCrossesContexts(prisma: CachedPrisma, log: ErrorLog): Promise<void> {
    const truths = new Map<string, unknown>();
    for (const tenantId of tenants)
      for (const [i, read] of READS.entries()) truths.set(`${tenantId}:${i}`, await truth(read, tenantId));
    const user = prisma.user as unknown as Record<string, (args: object) => Promise<unknown>>;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        for (const { tenant, role, read } of steps) {
          const tenantId = tenants[tenant] as number;
          const query = READS[read] as (typeof READS)[number];
          // Awaited inside the scope: a Prisma promise runs when awaited, in the context of whoever awaits it.
          const answer = await scope.run(
            { tenantId, role },
            async () => await (user[query.op] as (args: object) => Promise<unknown>)({ ...query.args, cache: true }),
          );
          expect(answer).toEqual(truths.get(`${tenantId}:${read}`));
        }
      }),
      { numRuns: 120 },
    );
    expect(log.codes()).toEqual([]);
    // About 1,560 reads of at most 140 keys: most repeat an earlier one and are served by the cache. This only shows
    // the cache was in use (the property is that no answer crosses contexts), so the bar is a third of the reads: the
    // old bar (500 hits) failed once in a full run at load ~11 with 463, a cause not found (it passed 5 times alone).
    const { misses } = prisma.$cache.stats();
    expect(hitsOf(prisma), "reads that repeat an earlier one are served by the cache").toBeGreaterThan(
      (hitsOf(prisma) + misses) / 3,
    );
  }

  /** Runs the hostile-JSON property on `prisma`: what the cache returns is what the database returns. */
  async function hostileJsonRoundTrips(prisma: CachedPrisma): Promise<void> {
    const fixture = fixtures[0] as Fixture;
    const scratch = await createScratchUser(bare, fixture, "hostile-json");
    const read = () =>
      scope.run(
        { tenantId: fixture.tenantId, role: "__proto__" },
        async () =>
          await prisma.user.findUnique({ where: { id: scratch.id }, select: { settings: true }, cache: true }),
      );
    await fc.assert(
      fc.asyncProperty(hostileJson, async (settings) => {
        // Raw SQL: Prisma 7.10's own update throws a TypeError on a Json value with an own `__proto__` key (so no
        // cached client can be handed one that way). A raw write through the cached client invalidates every model.
        await prisma.$executeRaw`UPDATE "User" SET "settings" = ${JSON.stringify(settings)} WHERE "id" = ${scratch.id}`;
        const stored = await bare.user.findUnique({ where: { id: scratch.id }, select: { settings: true } });
        const miss = await read();
        await prisma.$cache.settled();
        const hitsBefore = hitsOf(prisma);
        const hit = await read();
        expect(hitsOf(prisma), "the second read is served by the cache").toBe(hitsBefore + 1);
        // Compared as text too: toEqual would not tell an own `__proto__` property from a changed prototype.
        for (const answer of [miss, hit]) {
          expect(answer).toEqual(stored);
          expect(JSON.stringify(answer)).toBe(JSON.stringify(stored));
          expect(Object.getPrototypeOf((answer as { settings: unknown }).settings ?? {})).toBe(
            Object.getPrototypeOf(stored?.settings ?? {}),
          );
        }
      }),
      { numRuns: 150 },
    );
  }

  describe("in-process tier", () => {
    let client: { prisma: CachedPrisma; log: ErrorLog };
    beforeAll(async () => (client = await scopedClient({ prefix: `pqc-kp-${process.pid}:` })));
    afterAll(() => client?.prisma.$cache.close());

    it("no result reaches another context (120 random sequences of up to 25 reads)", () =>
      noResultCrossesContexts(client.prisma, client.log));
    it("hostile JSON comes back as the database returns it (150 values)", () => hostileJsonRoundTrips(client.prisma));
  });

  describeWith(["redis"], "shared tier only (Redis)", () => {
    let redis: Redis;
    let client: { prisma: CachedPrisma; log: ErrorLog };
    const prefix = `pqc-kp-redis-${process.pid}-${Date.now()}:`;
    beforeAll(async () => {
      redis = await connectRedis();
      client = await scopedClient({ redis, l1: false, prefix });
    });
    afterAll(async () => {
      await client?.prisma.$cache.close();
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    });

    it("no result reaches another context (120 random sequences of up to 25 reads)", () =>
      noResultCrossesContexts(client.prisma, client.log));
    it("hostile JSON comes back as the database returns it (150 values)", () => hostileJsonRoundTrips(client.prisma));
  });
});
