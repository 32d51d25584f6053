/**
 * Event-driven invalidation on real Postgres (docs/events.md, contract item
 * 5): writes made through a plain `pg` connection, which the cache never
 * sees, reach every instance through the event triggers and the LISTEN
 * connection. Two application instances share a Redis prefix, each with its
 * own PrismaClient, Redis connection and listener.
 *
 * Waiting is bounded polling on what a read returns, never a fixed sleep.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresEvents, type PostgresEventsOptions } from "../../src/events/index.js";
import { cachedClient, ErrorLog, postgresClient, type BareClient, type CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { listen, resetEventsDatabase, runSql, siblingDatabaseUrl } from "../helpers/events-database.js";
import { startFreezableProxy } from "../helpers/freezable-proxy.js";
import { pollUntil } from "../helpers/poll.js";
import { connectRedis, deleteKeysUnder, REDIS_URL } from "../helpers/services.js";
import type { CacheExtensionOptions } from "../../src/index.js";

const URL = siblingDatabaseUrl("_events");
/** How long a test waits for an invalidation it expects; the measured latency is milliseconds (docs/events.md). */
const EXPECTED_WITHIN_MS = 2_000;

describeWith(["postgres", "redis"], "event-driven invalidation: postgres LISTEN/NOTIFY", () => {
  const runPrefix = `pqc-test-events:${process.pid}:`;
  const opened: { prisma: CachedPrisma; bare: BareClient; redis: Redis | undefined }[] = [];
  let prefixes = 0;
  let tenants = 0;

  beforeAll(() => resetEventsDatabase(URL));
  afterAll(async () => {
    for (const { prisma, bare, redis } of opened) {
      await prisma.$cache.close();
      await bare.$disconnect();
      redis?.disconnect();
    }
    const redis = await connectRedis();
    await deleteKeysUnder(redis, runPrefix);
    redis.disconnect();
  });

  /**
   * An application instance listening for events, on `prefix`; `redisUrl` routes its Redis connection (through a
   * proxy), `cache` adds extension options.
   */
  async function instance(
    prefix: string,
    events: Partial<PostgresEventsOptions> = {},
    { redisUrl, cache = {} }: { redisUrl?: string; cache?: CacheExtensionOptions } = {},
  ) {
    const bare = postgresClient(URL);
    const redis = await connectRedis(redisUrl);
    redis.on("error", () => undefined); // a frozen proxy's connection may be reset when the test closes it
    const log = new ErrorLog();
    const { prisma, database } = await cachedClient(bare, {
      redis,
      prefix,
      onError: log.onError,
      events: postgresEvents({ connectionString: URL, ...events }),
      ...cache,
    });
    opened.push({ prisma, bare, redis });
    await prisma.$cache.ready(); // the listener has LISTENed: from now on every commit is heard
    return { prisma, database, log };
  }
  type Instance = Awaited<ReturnType<typeof instance>>;

  /** Two instances on a new prefix. */
  async function pair(events: Partial<PostgresEventsOptions> = {}) {
    const prefix = `${runPrefix}${prefixes++}:`;
    return [await instance(prefix, events), await instance(prefix, events)] as const;
  }

  /** A tenant with users `names`, written with plain SQL; returns their ids in order. */
  async function seed(names: string[]) {
    const slug = `events-${process.pid}-${tenants++}`;
    const tenant = await runSql(URL, `INSERT INTO "Tenant"(slug, name) VALUES ($1, $1) RETURNING id`, [slug]);
    const tenantId = tenant.rows[0].id as number;
    const users = await runSql(
      URL,
      `INSERT INTO "User"("tenantId", email, name) SELECT $1, n || '@example.com', n FROM unnest($2::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i RETURNING id`,
      [tenantId, names],
    );
    return { tenantId, userIds: users.rows.map((row: { id: number }) => row.id) };
  }

  /** A cached read of one user's name. */
  const byId = (id: number) => (p: CachedPrisma) =>
    p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

  /**
   * Reads once, then again: the second must be an in-process hit (no database query). Tests seed before they create
   * their instances: a listener hears only commits made after its LISTEN, and its first connection invalidates
   * everything before `ready()` resolves, so no seeding notification can land after this.
   */
  async function cached<T>(on: Instance, read: (prisma: CachedPrisma) => Promise<T>): Promise<T> {
    const first = await read(on.prisma);
    const before = on.database.queries;
    expect(await read(on.prisma)).toEqual(first);
    expect(on.database.queries, "precondition: the read is cached").toBe(before);
    return first;
  }

  /** Polls `read` on `on` until it returns `expected`; fails if it has not within the bound. */
  async function seen<T>(on: Instance, read: (prisma: CachedPrisma) => Promise<T>, expected: T): Promise<number> {
    const started = Date.now();
    const last = await pollUntil(
      () => read(on.prisma),
      (value) => JSON.stringify(value) === JSON.stringify(expected),
      EXPECTED_WITHIN_MS,
    );
    expect(last).toEqual(expected);
    return Date.now() - started;
  }

  it("a write through a plain pg connection invalidates the cached read on both instances, and only that row's", async () => {
    const { userIds } = await seed(["Ann", "Bob"]);
    const [ann, bob] = userIds as [number, number];
    const [a, b] = await pair();
    for (const on of [a, b]) {
      expect(await cached(on, byId(ann))).toEqual({ name: "Ann" });
      expect(await cached(on, byId(bob))).toEqual({ name: "Bob" });
    }

    await runSql(URL, `UPDATE "User" SET name = 'Ann 2' WHERE id = $1`, [ann]);

    await seen(a, byId(ann), { name: "Ann 2" });
    await seen(b, byId(ann), { name: "Ann 2" });
    // Record-level, as a write through the client: Bob's entry survived.
    const before = b.database.queries;
    expect(await byId(bob)(b.prisma)).toEqual({ name: "Bob" });
    expect(b.database.queries, "Bob's row was not invalidated").toBe(before);
  });

  it("an UPDATE of 10,000 rows names the table (the keys exceed the payload limit) and invalidates every read of it", async () => {
    const { tenantId, userIds } = await seed(["First"]);
    await runSql(
      URL,
      `INSERT INTO "User"("tenantId", email, name) SELECT $1, 'bulk' || g || '@example.com', 'bulk' FROM generate_series(1, 9999) g`,
      [tenantId],
    );
    const first = (p: CachedPrisma) =>
      p.user.findUnique({ where: { id: userIds[0] as number }, select: { name: true }, cache: true });
    const renamed = (p: CachedPrisma) => p.user.count({ where: { tenantId, name: "renamed" }, cache: true });
    const [a, b] = await pair();
    for (const on of [a, b]) {
      expect(await cached(on, first)).toEqual({ name: "First" });
      expect(await cached(on, renamed)).toBe(0);
    }
    const heard = await listen(URL);

    const update = await runSql(URL, `UPDATE "User" SET name = 'renamed' WHERE "tenantId" = $1`, [tenantId]);
    expect(update.rowCount).toBe(10_000);

    for (const on of [a, b]) {
      await seen(on, first, { name: "renamed" });
      await seen(on, renamed, 10_000);
    }
    await pollUntil(
      async () => heard.payloads,
      (payloads) => payloads.length > 0,
    );
    await heard.close();
    expect(heard.payloads).toEqual(['{"v":1,"m":"User"}']);
  });

  it("a DELETE cascading to children invalidates the children's cached reads (each table's trigger fires)", async () => {
    const { tenantId, userIds } = await seed(["Parent", "Other"]);
    const [parent, other] = userIds as [number, number];
    const post = await runSql(
      URL,
      `INSERT INTO "Post"("tenantId", "authorId", slug, title) VALUES ($1, $2, 'p', 'P') RETURNING id`,
      [tenantId, other],
    );
    const postId = post.rows[0].id as number;
    await runSql(URL, `INSERT INTO "Profile"("userId", bio) VALUES ($1, 'bio')`, [parent]);
    await runSql(URL, `INSERT INTO "Comment"("postId", "authorId", body) VALUES ($1, $2, 'hello')`, [postId, parent]);
    const profile = (p: CachedPrisma) =>
      p.profile.findUnique({ where: { userId: parent }, select: { bio: true }, cache: true });
    const comments = (p: CachedPrisma) => p.comment.count({ where: { postId }, cache: true });
    const [a, b] = await pair();
    for (const on of [a, b]) {
      expect(await cached(on, profile)).toEqual({ bio: "bio" });
      expect(await cached(on, comments)).toBe(1);
    }

    await runSql(URL, `DELETE FROM "User" WHERE id = $1`, [parent]);

    for (const on of [a, b]) {
      await seen(on, profile, null);
      await seen(on, comments, 0);
    }
  });

  it("a rolled-back external transaction invalidates nothing", async () => {
    const { userIds } = await seed(["Kept", "Marker"]);
    const [kept, marker] = userIds as [number, number];
    const [a, b] = await pair();
    for (const on of [a, b]) {
      await cached(on, byId(kept));
      await cached(on, byId(marker));
    }
    const queries = [a.database.queries, b.database.queries];

    await runSql(URL, `BEGIN; UPDATE "User" SET name = 'never' WHERE id = ${kept}; ROLLBACK;`);
    // Notifications reach a listener in commit order: once this later commit is heard, an earlier one would have been.
    await runSql(URL, `UPDATE "User" SET name = 'Marker 2' WHERE id = $1`, [marker]);
    await seen(a, byId(marker), { name: "Marker 2" });
    await seen(b, byId(marker), { name: "Marker 2" });
    const afterMarker = [a.database.queries, b.database.queries];

    expect(await byId(kept)(a.prisma)).toEqual({ name: "Kept" });
    expect(await byId(kept)(b.prisma)).toEqual({ name: "Kept" });
    expect([a.database.queries, b.database.queries], "Kept's entries were served from the cache").toEqual(afterMarker);
    expect(afterMarker[0]).toBeGreaterThan(queries[0] as number); // the marker's reads did reach the database
  });

  it("a terminated LISTEN connection recovers: what changed meanwhile is invalidated within the reconnect bound, and later changes are heard", async () => {
    const { userIds } = await seed(["Before"]);
    const user = byId(userIds[0] as number);
    const [a, b] = await pair({ reconnectDelay: "100ms" });
    for (const on of [a, b]) await cached(on, user);

    const terminated = await runSql(
      URL,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'prisma-query-cache events'`,
    );
    expect(terminated.rowCount).toBeGreaterThanOrEqual(2);
    // Written while the listeners are gone: no notification reaches them.
    await runSql(URL, `UPDATE "User" SET name = 'During' WHERE id = $1`, [userIds[0]]);
    const elapsed = [await seen(a, user, { name: "During" }), await seen(b, user, { name: "During" })];
    // The documented bound for a terminated connection: the first reconnect delay plus a connection set-up.
    expect(Math.max(...elapsed)).toBeLessThan(1_000);
    expect(a.log.codes()).toContain("E_EVENTS");

    // Both listeners back, each having invalidated everything: what follows must come from a notification.
    for (const on of [a, b])
      await pollUntil(
        async () => on.prisma.$cache.stats().eventConnects,
        (connects) => connects === 2,
      );
    const heard = a.prisma.$cache.stats().eventsHeard;
    await runSql(URL, `UPDATE "User" SET name = 'After' WHERE id = $1`, [userIds[0]]);
    await seen(a, user, { name: "After" });
    await seen(b, user, { name: "After" });
    // A may have seen it through B's bump first; its own listener hears it too.
    const heardAfter = await pollUntil(
      async () => a.prisma.$cache.stats().eventsHeard,
      (count) => count > heard,
      EXPECTED_WITHIN_MS,
    );
    expect(heardAfter).toBeGreaterThan(heard);
  });

  it("a LISTEN connection lost silently (no FIN) is noticed by the heartbeat: changes are served at most 2 x heartbeat plus a reconnect", async () => {
    const proxy = await startFreezableProxy(URL);
    try {
      const { userIds } = await seed(["Quiet"]);
      // Only the listener goes through the proxy: the instance's reads and the writes below do not freeze.
      const on = await instance(`${runPrefix}${prefixes++}:`, {
        connectionString: proxy.url,
        heartbeat: "500ms",
        reconnectDelay: "50ms",
      });
      const { prisma, log } = on;
      const user = byId(userIds[0] as number);
      await cached(on, user);

      proxy.freezeOpenConnections();
      await runSql(URL, `UPDATE "User" SET name = 'Unheard' WHERE id = $1`, [userIds[0]]);
      // The notification was dropped on the frozen connection: the entry is still served until the heartbeat fails.
      expect(await user(prisma)).toEqual({ name: "Quiet" });
      const elapsed = await seen(on, user, { name: "Unheard" });
      expect(elapsed).toBeLessThan(2 * 500 + 500);
      expect(log.codes()).toContain("E_EVENTS");
      expect(prisma.$cache.stats().eventConnects).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("durable invalidation: a client write whose bump cannot reach Redis still reaches the other instances, from its trigger's notification", async () => {
    const proxy = await startFreezableProxy(REDIS_URL);
    try {
      const prefix = `${runPrefix}${prefixes++}:`;
      const fast = { cache: { redisTimeout: "100ms", busLease: "300ms" } } as const;
      const { userIds } = await seed(["Safe"]);
      const user = byId(userIds[0] as number);
      const a = await instance(prefix, {}, { ...fast, redisUrl: proxy.url });
      const b = await instance(prefix, {}, fast);
      await cached(b, user);

      // A is cut off from Redis (a partition, no error): its write's bump cannot land, and is only retried.
      proxy.freezeOpenConnections();
      await a.prisma.user.update({ where: { id: userIds[0] as number }, data: { name: "Durable" } });
      expect(a.log.codes()).toContain("E_INVALIDATION");

      // The trigger's notification was committed with the write: B hears it from Postgres and invalidates.
      await seen(b, user, { name: "Durable" });
    } finally {
      await proxy.close();
    }
  });

  it("without Redis, the listener invalidates this process's in-process tier", async () => {
    const { userIds } = await seed(["Local"]);
    const bare = postgresClient(URL);
    const log = new ErrorLog();
    const { prisma, database } = await cachedClient(bare, {
      prefix: `${runPrefix}${prefixes++}:`,
      onError: log.onError,
      events: postgresEvents({ connectionString: URL }),
    });
    opened.push({ prisma, bare, redis: undefined });
    await prisma.$cache.ready();
    const on = { prisma, database, log };
    const user = byId(userIds[0] as number);
    await cached(on, user);

    await runSql(URL, `UPDATE "User" SET name = 'Local 2' WHERE id = $1`, [userIds[0]]);

    await seen(on, user, { name: "Local 2" });
    expect(log.codes()).toEqual([]);
  });

  describe("options, checked when $extends runs", () => {
    it("refuses a missing connectionString, an unknown option and a bad channel, naming each", () => {
      expect(() => postgresEvents({} as PostgresEventsOptions)).toThrow(/events\.connectionString/);
      expect(() => postgresEvents({ connectionString: URL, chanel: "x" } as PostgresEventsOptions)).toThrow(
        /events\.chanel/,
      );
      expect(() => postgresEvents({ connectionString: URL, channel: "Not-Valid" })).toThrow(/events\.channel/);
    });

    it("refuses an unknown model and an object that is not an event source", async () => {
      const bare = postgresClient(URL);
      const { cacheExtension } = await import("../../src/index.js");
      expect(() =>
        bare.$extends(cacheExtension({ events: postgresEvents({ connectionString: URL, models: ["Usr"] }) })),
      ).toThrow(/models names "Usr"/);
      expect(() => bare.$extends(cacheExtension({ events: {} as never }))).toThrow(/option `events`/);
      await bare.$disconnect();
    });
  });
});
