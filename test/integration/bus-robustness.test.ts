/**
 * The bus runs inside ioredis' socket handler: whatever another program
 * publishes on its channel must not throw there (an uncaught exception would
 * take the process down) nor confuse the instance; and a gap in the bus's
 * message sequence makes an instance forget what it may have missed.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { cacheExtension } from "../../src/index.ts";
import { postgresClient, type BareClient } from "../helpers/clients.ts";
import { deleteKeysUnder, ensurePostgresSchema, REDIS_URL } from "../helpers/services.ts";
import { createScratchUser } from "../helpers/fixture.ts";
import { Harness, observe } from "../helpers/harness.ts";
import { postgresTarget } from "../helpers/targets.ts";

describeWith(["postgres", "redis"], "the invalidation bus ignores foreign messages", () => {
  const prefix = `it-bus-robust-${process.pid}-${Date.now()}:`;
  let bare: BareClient;
  let redis: Redis;
  let tenantId: number;

  beforeAll(async () => {
    await ensurePostgresSchema();
    bare = postgresClient();
    redis = new Redis(REDIS_URL);
    tenantId = (await bare.tenant.create({ data: { slug: `bus-${process.pid}-${Date.now()}`, name: "bus" } })).id;
  });

  afterAll(async () => {
    await bare.tenant.delete({ where: { id: tenantId } });
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
    await bare.$disconnect();
  });

  it("malformed and foreign messages on the bus channel neither crash the process nor stop invalidation", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    const [a, b] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    const writer = bare.$extends(cacheExtension({ redis: a, prefix }));
    const reader = bare.$extends(cacheExtension({ redis: b, prefix }));
    try {
      await Promise.all([writer.$cache.ready(), reader.$cache.ready()]);
      const user = await bare.user.create({ data: { tenantId, email: `bus-${Date.now()}@test`, name: "before" } });
      const read = () => reader.user.findUnique({ where: { id: user.id }, select: { name: true }, cache: true });
      expect(await read()).toEqual({ name: "before" });
      for (const junk of [
        "null",
        "42",
        "not json",
        '{"t":"inv"}',
        '{"t":"inv","from":"x","id":"y","tags":["m:User"]}',
        '{"t":"ack"}',
        '{"t":"hb","from":1}',
        "[]",
      ]) {
        await redis.publish(`${prefix}bus`, junk);
      }
      await writer.user.update({ where: { id: user.id }, data: { name: "after" } });
      expect(await read()).toEqual({ name: "after" });
      expect(uncaught).toEqual([]);

      // A message lost without a reconnect (ioredis' Cluster subscriber moves silently) shows as a gap in
      // the bus sequence: the reader must drop what it may have missed invalidations for.
      expect(await read()).toEqual({ name: "after" });
      expect(reader.$cache.stats().l1Entries).toBeGreaterThan(0);
      const last = -Number(await redis.zscore(`${prefix}bus:members`, "#seq"));
      await redis.publish(
        `${prefix}bus`,
        JSON.stringify({ t: "hb", from: "a-member-that-does-not-exist", beat: 1, seq: last + 5 }),
      );
      await expect.poll(() => reader.$cache.stats().l1Entries).toBe(0);
      expect(await read()).toEqual({ name: "after" });
    } finally {
      process.off("uncaughtException", onUncaught);
      await writer.$cache.close();
      await reader.$cache.close();
      a.disconnect();
      b.disconnect();
    }
  });
});

describeWith(["postgres", "redis"], "an instance's own bump sent while its bus lease had lapsed", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  /** Blocks the event loop (no heartbeat can be sent or answered), as a long synchronous task would. */
  function blockFor(ms: number): void {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // Busy on purpose.
    }
  }

  it("is not taken as current once the lease is renewed: the instance's next read sees what the write changed (contract item 1)", async () => {
    const a = await env.instance({ busLease: "300ms", defaults: { ttl: 60, jitter: 0 } });
    const world = await env.world("lapse");
    const id = (await createScratchUser(env.bare, world, "lapse", { name: "v1" })).id;
    const read = () => a.prisma.user.findUnique({ where: { id }, select: { name: true }, cache: true });
    expect(await read()).toEqual({ name: "v1" });
    await a.prisma.$cache.settled();
    expect(await observe(a, read), "an in-process hit").toEqual({ value: { name: "v1" }, fromDatabase: false });
    await env.bare.user.update({ where: { id }, data: { name: "v2" } }); // behind the cache
    blockFor(450); // the 300 ms lease lapses, without a reconnect
    await a.prisma.$cache.invalidate({ models: ["User"] }); // sent while the bus is not known to hear everything
    await new Promise((resolve) => setTimeout(resolve, 400)); // heartbeats renew the lease
    expect(await read(), "the read after the invalidation resolved").toEqual({ name: "v2" });
  });
});
