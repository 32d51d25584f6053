/**
 * Lifetimes of tag version keys in Redis. A version every query shares
 * (`m:`, `r:`, `rs:`, `j:`) lives a day (tagTtl); a query's own version
 * (`q:`, one per distinct query, for `$cache.invalidateQuery`) lives as long
 * as its entry, so distinct queries do not leave a key each behind for a day.
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

  it("a query's own version key expires with its entry; the model's lives the versions' day", async () => {
    const w = await env.world("version-ttl");
    const instance = await env.instance({ defaults: { ttl: "5s", swr: "5s", jitter: 0 } });
    const redis = env.redis;
    if (redis === undefined) throw new Error("the target has Redis");
    await instance.prisma.user.findMany({ where: { tenantId: w.tenantId }, select: { email: true }, cache: true });
    await instance.prisma.$cache.settled();

    const versions = await keysUnder(redis, `${instance.prefix}t:`);
    const own = versions.filter((key) => key.startsWith(`${instance.prefix}t:q:`));
    const model = `${instance.prefix}t:m:User`;
    expect(own).toHaveLength(1);
    expect(versions).toContain(model);
    const entries = (await keysUnder(redis, instance.prefix)).filter(
      (key) => !key.startsWith(`${instance.prefix}t:`) && !key.includes(":bus:"),
    );
    expect(entries).toHaveLength(1);

    const [ownTtl, entryTtl, modelTtl] = await Promise.all([
      redis.pttl(own[0] as string),
      redis.pttl(entries[0] as string),
      redis.pttl(model),
    ]);
    // ttl + swr = 10 s: the entry and its own version expire together (the version at most a moment later).
    expect(entryTtl).toBeGreaterThan(8_000);
    expect(entryTtl).toBeLessThanOrEqual(10_000);
    expect(ownTtl).toBeGreaterThanOrEqual(entryTtl - 50);
    expect(ownTtl).toBeLessThanOrEqual(10_000);
    expect(modelTtl, "a shared version lives at least a day").toBeGreaterThan(23 * 3_600_000);
  });
});
