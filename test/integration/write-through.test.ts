/**
 * Write-through (models: { User: { writeThrough: true } }): an update by
 * primary key that returns the full row refreshes the cached primary-key
 * lookup instead of leaving the next read to miss, and never when another
 * write may have raced it (the next read then goes to the database and sees
 * the newest row).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { cacheExtension, type CacheExtensionOptions } from "../../src/index.ts";
import { postgresClient, type BareClient } from "../helpers/clients.ts";
import { ensurePostgresSchema, deleteKeysUnder, REDIS_URL } from "../helpers/services.ts";

/** A one-shot gate: `wait()` blocks until `open()`. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}

describeWith(["postgres", "redis"], "write-through", () => {
  const prefix = `it-write-through-${process.pid}-${Date.now()}:`;
  let bare: BareClient;
  let redis: Redis;
  let tenantId: number;
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    await ensurePostgresSchema();
    bare = postgresClient();
    redis = new Redis(REDIS_URL);
    tenantId = (await bare.tenant.create({ data: { slug: `wt-${process.pid}-${Date.now()}`, name: "write-through" } }))
      .id;
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await bare.tenant.delete({ where: { id: tenantId } });
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
    await bare.$disconnect();
  });

  /**
   * A cached client over `bare` with a database-query counter, and its own
   * Redis connection. With `bumpGate`, the connection holds the first
   * tag-version bump (an EVALSHA with keys only) until the gate opens: the
   * writer has committed, and has not yet invalidated or written through.
   */
  async function client(options: Partial<CacheExtensionOptions>, bumpGate?: { wait(): Promise<void> }) {
    const database = { queries: 0 };
    const connection = new Redis(REDIS_URL);
    closers.push(() => connection.disconnect());
    if (bumpGate !== undefined) {
      const evalsha = connection.evalsha.bind(connection) as (...args: unknown[]) => Promise<unknown>;
      let held = false;
      (connection as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = async (
        ...args: unknown[]
      ) => {
        // A bump passes only its keys; a version read also passes ARGV.
        const isBump = args.length === 2 + Number(args[1]);
        if (isBump && !held) {
          held = true;
          await bumpGate.wait();
        }
        return evalsha(...args);
      };
    }
    const prisma = bare
      .$extends({
        query: {
          $allModels: {
            $allOperations({ args, query }) {
              database.queries++;
              return query(args);
            },
          },
        },
      })
      // Closing connections while a background fill is in flight is expected here; failures are counted, not printed.
      .$extends(cacheExtension({ redis: connection, prefix, onError: () => undefined, ...options }));
    closers.push(() => prisma.$cache.close());
    await prisma.$cache.ready();
    return { prisma, database };
  }

  const newUser = async (name: string) =>
    (await bare.user.create({ data: { tenantId, email: `${name}-${Math.random()}@wt.test`, name } })).id;

  it("refreshes the cached primary-key lookup with the updated row: the next read needs no database query", async () => {
    const { prisma, database } = await client({ models: { User: { writeThrough: true } } });
    const id = await newUser("before");
    expect((await prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("before");
    await prisma.user.update({ where: { id }, data: { name: "after" } });
    const queries = database.queries;
    expect((await prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("after");
    expect(database.queries).toBe(queries);
    expect(await bare.user.findUnique({ where: { id } })).toStrictEqual(
      await prisma.user.findUnique({ where: { id }, cache: true }),
    );
  });

  it("is off by default: the next read after an update goes to the database", async () => {
    const { prisma, database } = await client({});
    const id = await newUser("before");
    await prisma.user.findUnique({ where: { id }, cache: true });
    await prisma.user.update({ where: { id }, data: { name: "after" } });
    const queries = database.queries;
    expect((await prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("after");
    expect(database.queries).toBe(queries + 1);
  });

  it("skips an update with select: the cached shape would not match", async () => {
    const { prisma, database } = await client({ models: { User: { writeThrough: true } } });
    const id = await newUser("before");
    await prisma.user.update({ where: { id }, data: { name: "after" }, select: { id: true } });
    const queries = database.queries;
    expect((await prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("after");
    expect(database.queries).toBe(queries + 1);
  });

  it("never stores its row when another write raced it: the next read returns the newest row", async () => {
    const held = gate();
    const fast = await client({ models: { User: { writeThrough: true } } });
    const id = await newUser("original");
    const slow = await client({ models: { User: { writeThrough: true } } }, held);
    // The slow writer commits first, then is held before its invalidation and write-through...
    // then(): Prisma promises are lazy; this starts the write.
    const slowWrite = slow.prisma.user.update({ where: { id }, data: { name: "older" } }).then((row) => row);
    await expect.poll(() => bare.user.findUnique({ where: { id } }).then((u) => u?.name)).toBe("older");
    // ...while a second writer commits a newer row and invalidates.
    await fast.prisma.user.update({ where: { id }, data: { name: "newer" } });
    held.open();
    await slowWrite;
    await slow.prisma.$cache.settled();
    // Had the slow writer stored "older" with current versions, this would be a stale hit.
    expect((await slow.prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("newer");
    expect((await fast.prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("newer");
  });

  it("does not write through inside a transaction", async () => {
    const { prisma, database } = await client({ models: { User: { writeThrough: true } } });
    const id = await newUser("before");
    await prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id }, data: { name: "after" } });
    });
    const queries = database.queries;
    expect((await prisma.user.findUnique({ where: { id }, cache: true }))?.name).toBe("after");
    expect(database.queries).toBe(queries + 1);
  });
});
