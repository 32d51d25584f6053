/**
 * The shared tier behind the protections a production Redis has (issue 12,
 * scope 8), each on a private `redis-server` this file starts:
 *   - TLS only (`rediss://`, a throw-away CA): reads hit, a write on one
 *     instance reaches the other through the bus, which runs over the
 *     `duplicate()` of the TLS connection the user passed;
 *   - an ACL user holding only the commands, keys and channels the library
 *     needs (the list docs/operations.md gives), confined to its prefix: the
 *     same, and nothing is refused but the advisory CONFIG GET;
 *   - two applications on one server, one prefix each, with a user each that
 *     cannot reach the other's prefix: neither serves the other's entries;
 *   - names in Redis never reveal a query's values: no key and no bus
 *     message contains them.
 */
import { randomUUID } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cachedClient, ErrorLog, postgresClient, type BareClient, type CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import type { CacheExtensionOptions } from "../../src/index.js";
import { createScratchUser, removeFixture, seedFixture, type Fixture } from "../helpers/fixture.js";
import { privateRedisServers, type RedisServer } from "../helpers/redis-server.js";
import { makeTestCertificates, opensslInstalled, type TestCertificates } from "../helpers/tls-certificates.js";

/**
 * What the library runs on Redis, as an ACL rule (docs/operations.md, "ACL users"): plain commands, the commands its
 * scripts call (Redis checks those against the user too), pub/sub for the bus, and the connection's own checks.
 */
const LIBRARY_COMMANDS =
  "+get +set +mget +del +incr +pexpire +pttl +time +evalsha +eval " +
  "+zadd +zrem +zscore +zincrby +zrange +zrangebyscore +zremrangebyscore " +
  "+publish +subscribe +pubsub|numsub +info";

/** An ACL user confined to `prefix`: its keys and channels only, the library's commands only. */
async function createAppUser(admin: Redis, name: string, password: string, prefix: string): Promise<void> {
  await admin.call(
    "ACL",
    "SETUSER",
    name,
    "reset",
    "on",
    `>${password}`,
    `~${prefix}*`,
    `&${prefix}*`,
    ...LIBRARY_COMMANDS.split(" "),
  );
}

describeWith(["postgres", "redis-server"], "Redis security: TLS, ACL users, one prefix per app, opaque names", () => {
  const connections: Redis[] = [];
  const clients: CachedPrisma[] = [];
  const startServer = privateRedisServers(async () => {
    for (const prisma of clients) await prisma.$cache.close();
    for (const redis of connections) redis.disconnect();
  });
  let bare: BareClient;
  let fixture: Fixture;

  beforeAll(async () => {
    bare = postgresClient();
    fixture = await seedFixture(bare, "security", "1234567.125");
  });

  afterAll(async () => {
    if (fixture !== undefined) await removeFixture(bare, fixture);
    await bare?.$disconnect();
  });

  /** A connection with `options`, closed after the file. */
  function connect(server: RedisServer, options: RedisOptions = {}): Redis {
    const redis = new Redis(server.url, {
      maxRetriesPerRequest: 1,
      ...(server.tlsOptions && { tls: server.tlsOptions }),
      ...options,
    });
    redis.on("error", () => undefined); // failures reach the test through onError
    connections.push(redis);
    return redis;
  }

  /** A cached client on its own connection (made by `open`), under `prefix`; closed after the file. */
  async function instance(open: () => Redis, prefix: string, options: CacheExtensionOptions = {}) {
    const log = new ErrorLog();
    const { prisma, database } = await cachedClient(bare, {
      redis: open(),
      prefix,
      redisTimeout: "2s",
      onError: log.onError,
      ...options,
    });
    clients.push(prisma);
    const ready = await prisma.$cache.ready({ timeout: "5s" });
    expect(ready).toEqual({ redis: "connected" });
    return { prisma, database, log };
  }

  /**
   * Two instances over connections made by `open`: a read is cached (the second read of it is a hit), and a write
   * through one instance is seen by the next read of the other, which had the old row cached. Returns the logs.
   */
  async function exerciseTwoInstances(
    open: () => Redis,
    prefix: string,
    options: CacheExtensionOptions = {},
  ): Promise<ErrorLog[]> {
    const scratch = await createScratchUser(bare, fixture, "security", { name: "before" });
    const [a, b] = [await instance(open, prefix, options), await instance(open, prefix, options)];
    const read = (prisma: CachedPrisma) => prisma.user.findUnique({ where: { id: scratch.id }, cache: true });

    expect((await read(b.prisma))?.name).toBe("before");
    const before = b.database.queries;
    expect((await read(b.prisma))?.name).toBe("before");
    expect(b.database.queries).toBe(before); // a hit
    expect(b.prisma.$cache.stats().l1Hits).toBeGreaterThan(0);

    await a.prisma.user.update({ where: { id: scratch.id }, data: { name: "after" } });
    // The write resolved: b heard it over the bus (and acknowledged it), so its in-process copy is gone.
    expect((await read(b.prisma))?.name).toBe("after");
    expect(b.database.queries).toBe(before + 1);
    // And the entry a's read stores in Redis is served to b's later reads again.
    expect((await read(a.prisma))?.name).toBe("after");
    return [a.log, b.log];
  }

  it("works over TLS only: reads hit, writes invalidate the other instance", async () => {
    // Not skipped without it: CI has it (Debian's openssl), and a skipped security test would pass unnoticed.
    if (!opensslInstalled())
      throw new Error("This test makes its certificates with `openssl`: apt-get install openssl.");
    let certificates: TestCertificates | undefined;
    try {
      certificates = makeTestCertificates();
      const server = await startServer({ tls: certificates });
      expect(server.url).toMatch(/^rediss:\/\//);
      // The server speaks TLS only: a plain-text client gets no answer from it.
      const plain = new Redis(`redis://127.0.0.1:${server.port}`, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 1_000,
      });
      plain.on("error", () => undefined);
      await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
      plain.disconnect();

      const logs = await exerciseTwoInstances(() => connect(server), `pqc-tls-${randomUUID().slice(0, 8)}:`);
      for (const log of logs) expect(log.codes()).toEqual([]);
    } finally {
      certificates?.remove();
    }
  });

  it.each([
    ["", {}],
    [', with admission "auto" (its first-read scripts)', { admission: "auto" }],
  ] as const)("works as an ACL user holding only the library's commands, keys and channels%s", async (_, options) => {
    const server = await startServer();
    const admin = connect(server);
    const prefix = `pqc-acl-${randomUUID().slice(0, 8)}:`;
    await createAppUser(admin, "cache-app", "app-password", prefix);

    const logs = await exerciseTwoInstances(
      () => connect(server, { username: "cache-app", password: "app-password" }),
      prefix,
      options,
    );
    // Nothing was refused but the advisory eviction-policy check (CONFIG is not the library's to use).
    for (const log of logs) {
      expect(log.codes()).toEqual(["E_REDIS_POLICY"]);
      expect(log.errors[0]?.message).toMatch(/does not allow CONFIG GET/);
    }
    // Everything it wrote is under its prefix (the user could not have written elsewhere; this checks it needed not).
    const keys = await admin.keys("*");
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith(prefix))).toEqual([]);
    // With automatic admission, the take marked the key as read (its script ran under the user).
    expect(keys.some((key) => key.endsWith(":seen"))).toBe("admission" in options);
  });

  it("keeps two applications on one server apart by prefix, each user confined to its own", async () => {
    const server = await startServer();
    const admin = connect(server);
    const prefixes = [`pqc-app-a-${randomUUID().slice(0, 8)}:`, `pqc-app-b-${randomUUID().slice(0, 8)}:`];
    await createAppUser(admin, "app-a", "password-a", prefixes[0]!);
    await createAppUser(admin, "app-b", "password-b", prefixes[1]!);
    const appA = await instance(() => connect(server, { username: "app-a", password: "password-a" }), prefixes[0]!);
    const appB = await instance(() => connect(server, { username: "app-b", password: "password-b" }), prefixes[1]!);
    const read = (prisma: CachedPrisma) =>
      prisma.user.findMany({ where: { tenantId: fixture.tenantId }, orderBy: { id: "asc" }, cache: true });

    const rows = await read(appA.prisma);
    await appA.prisma.$cache.settled(); // its entry is in Redis now
    await read(appA.prisma);
    const before = appB.database.queries;
    expect(await read(appB.prisma)).toEqual(rows);
    // The same query in the other application: not served from the first one's entry.
    expect(appB.database.queries).toBe(before + 1);
    expect(appB.prisma.$cache.stats().l2Hits).toBe(0);

    // A write in one application bumps versions under its prefix only: the other's entry stays a hit.
    await appA.prisma.$cache.invalidateModels(["User"]);
    await read(appB.prisma);
    expect(appB.database.queries).toBe(before + 1);
    expect(appB.prisma.$cache.stats().l1Hits).toBe(1);
    for (const log of [appA.log, appB.log]) expect(log.codes()).toEqual(["E_REDIS_POLICY"]);
  });

  it("never puts a query's values in a key name or a bus message", async () => {
    const server = await startServer();
    const admin = connect(server);
    const watcher = connect(server);
    const messages: string[] = [];
    await watcher.psubscribe("*");
    watcher.on("pmessage", (_pattern: string, _channel: string, message: string) => messages.push(message));
    const prefix = `pqc-opaque-${randomUUID().slice(0, 8)}:`;
    const { prisma } = await instance(() => connect(server), prefix);
    const secret = `secret-${randomUUID()}`;
    const scratch = await createScratchUser(bare, fixture, "opaque");

    // The values appear in where clauses of reads (keys, query tags) and writes (record tags on the bus).
    await prisma.user.findMany({ where: { email: secret, name: { contains: secret } }, cache: true });
    await prisma.user.findFirst({ where: { email: secret }, cache: true });
    await prisma.user.findUnique({ where: { id: scratch.id }, cache: true });
    await prisma.user.update({ where: { id: scratch.id }, data: { name: secret } });
    await prisma.user.updateMany({ where: { email: secret }, data: { name: "x" } });
    await prisma.$cache.settled();

    const keys = await admin.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(3);
    expect(keys.filter((key) => key.includes(secret) || key.includes(scratch.email))).toEqual([]);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.filter((message) => message.includes(secret) || message.includes(scratch.email))).toEqual([]);
    // Record-level tags name rows by a hash of their key, not the key itself.
    expect(keys.some((key) => key.includes(`:r:User:${scratch.id}`))).toBe(false);
  });
});
