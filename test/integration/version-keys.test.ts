/**
 * Lifetimes and number of tag version keys in Redis. Every version (`m:`,
 * `rs:`, `j:`, and the query tags `q:<bucket>` that `$cache.invalidateQuery`
 * bumps) lives a day (tagTtl); a row's (`r:`), of which there is one per row
 * ever read, twice the longest entry lifetime, at least an hour. Query tags name one of
 * 256 buckets, not a query: distinct queries (a search box, say) leave no key
 * each behind, and a first read of a query needs no version of its own.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { keysUnder } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "version keys: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it("600 distinct queries leave at most 256 query-tag versions, each living the versions' day", async () => {
    const w = await env.world("version-ttl");
    const instance = await env.instance({ defaults: { ttl: "5s", swr: "5s", jitter: 0 } });
    const redis = env.redis;
    if (redis === undefined) throw new Error("the target has Redis");
    for (let i = 0; i < 600; i++)
      await instance.prisma.user.findMany({
        where: { tenantId: w.tenantId, name: `search ${i}` },
        select: { email: true },
        cache: true,
      });
    await instance.prisma.$cache.settled();

    const versions = await keysUnder(redis, `${instance.prefix}t:`);
    const query = versions.filter((key) => key.startsWith(`${instance.prefix}t:q:`));
    // 600 queries over 256 buckets: all but a handful of buckets are hit (expected empty: 256 * e^-600/256 = 25).
    expect(query.length).toBeGreaterThan(180);
    expect(query.length).toBeLessThanOrEqual(256);
    const model = `${instance.prefix}t:m:User`;
    expect(versions).toContain(model);
    const ttls = await Promise.all([...query.slice(0, 20), model].map((key) => redis.pttl(key)));
    for (const ttl of ttls) expect(ttl, "a version lives at least a day").toBeGreaterThan(23 * 3_600_000);
  });

  it("a first read of a new query reads no tag version when the mirror knows its tags (one per new bucket, not per query)", async () => {
    const w = await env.world("version-reads");
    const redis = await env.connectRedis();
    const instance = await env.instance({ redis });
    await instance.prisma.$cache.ready();
    // The reads that read (or create) tag versions: the entries named by commands that also name a version key
    // (`<prefix>t:...`): an MGET of the entry and its versions, then the script creating the missing ones.
    const readsOfVersions = new Set<string>();
    const versionKey = (arg: unknown) => typeof arg === "string" && arg.startsWith(`${instance.prefix}t:`);
    for (const command of ["evalsha", "eval", "mget"] as const) {
      const original = redis[command].bind(redis) as (...args: unknown[]) => Promise<unknown>;
      (redis as unknown as Record<string, unknown>)[command] = (...args: unknown[]) => {
        const keys = command === "mget" ? args : args.slice(2);
        if (keys.some(versionKey)) readsOfVersions.add(String(keys.find((key) => !versionKey(key))));
        return original(...args);
      };
    }
    const seen = new Set<string>();
    let newBuckets = 0;
    for (let i = 0; i < 150; i++) {
      const args = { where: { tenantId: w.tenantId, name: `query ${i}` }, select: { email: true } };
      const bucket = instance.prisma.$cache.tagsOf("User", "findMany", args)?.[0] as string;
      if (!seen.has(bucket)) newBuckets++;
      seen.add(bucket);
      await instance.prisma.user.findMany({ ...args, cache: true });
    }
    // The first read learns m:User and rs:User with its bucket; later reads need a version read only for a new bucket.
    expect(readsOfVersions.size).toBe(newBuckets);
    expect(newBuckets).toBeLessThan(150);
  });

  it("a row's version lives twice the longest entry lifetime (at least an hour), not a day: one per row ever read", async () => {
    const w = await env.world("row-version-ttl");
    const instance = await env.instance({ defaults: { ttl: "5s", swr: "5s", jitter: 0 } });
    const redis = env.redis;
    if (redis === undefined) throw new Error("the target has Redis");
    const read = () => instance.prisma.user.findUnique({ where: { id: w.users.alice }, cache: true });
    await read();
    await instance.prisma.$cache.settled();
    const tags = instance.prisma.$cache.tagsOf("User", "findUnique", { where: { id: w.users.alice } }) ?? [];
    const row = tags.find((tag) => tag.startsWith("r:User:"));
    expect(row).toBeDefined();
    const [rowTtl, rowsTtl] = await Promise.all([
      redis.pttl(`${instance.prefix}t:${row}`),
      redis.pttl(`${instance.prefix}t:rs:User`),
    ]);
    expect(rowTtl).toBeGreaterThan(3_500_000);
    expect(rowTtl).toBeLessThanOrEqual(3_600_000);
    expect(rowsTtl, "the model-wide rs: tag keeps the day").toBeGreaterThan(23 * 3_600_000);
    // Still a hit: the shorter lifetime changes nothing while the version lives.
    const before = instance.database.queries;
    await read();
    expect(instance.database.queries).toBe(before);
  });
});
