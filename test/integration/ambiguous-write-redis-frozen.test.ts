/**
 * An ambiguous write (the connection drops
 * after the server committed) while Redis cannot take the invalidation.
 * Invalidator.invalidate never rejects, so the caller must still get the
 * database's error (not a cache error, not a hang), and the writer must stop
 * serving the pre-write row at once (VersionMirror.markUnbumped), exactly as
 * after a successful write with Redis down (contract item 9). Peers are
 * bounded by their bus lease then, as for any write; not checked here.
 *
 * A private redis-server (on a free port) that is frozen (SIGSTOP) for the write.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { postgresClient, type BareClient } from "../helpers/clients.js";
import { startCuttingProxy, type CuttingProxy } from "../helpers/cutting-proxy.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe } from "../helpers/harness.js";
import { privateRedisServers } from "../helpers/redis-server.js";
import { DATABASE_URL } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(
  ["postgres", "redis-server"],
  "an ambiguous write while Redis is frozen: the caller gets the database's error, the writer reads fresh",
  () => {
    const env = new Harness(postgresTarget({ redis: false }));
    let proxy: CuttingProxy;
    let over: BareClient;
    beforeAll(async () => {
      await env.start();
      proxy = await startCuttingProxy(DATABASE_URL);
      over = postgresClient(proxy.url);
    });
    afterAll(async () => {
      await over.$disconnect();
      await proxy.close();
    });
    const startServer = privateRedisServers(() => env.stop());

    it("the caller gets the connection error, the failed bump is reported, and the writer's next read is fresh", async () => {
      const w = await env.world("ambiguous-redis-down");
      const server = await startServer();
      const redis = await env.connectRedis(server.url);
      const writer = await env.instance({ over, redis, redisTimeout: "100ms", breaker: false });
      const read = () =>
        writer.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await read();
      await writer.prisma.$cache.settled();
      expect((await observe(writer, read)).fromDatabase, "warmed in-process").toBe(false);

      server.pause();
      try {
        const cut = proxy.cutAfter(/UPDATE "public"."User"/);
        const error = await writer.prisma.user
          .update({ where: { id: w.users.carol }, data: { name: "Cut, Redis frozen" } })
          .then(
            () => undefined,
            (e: unknown) => e as Error,
          );
        await cut;
        expect(error?.message, "the database's error reaches the caller").toMatch(/Connection terminated/);
        expect((await env.bare.user.findUnique({ where: { id: w.users.carol } }))?.name, "premise").toBe(
          "Cut, Redis frozen",
        );
        expect(writer.log.codes(), "the failed bump is reported").toContain("E_INVALIDATION");
        expect(await observe(writer, read), "the writer's next read").toEqual({
          value: { name: "Cut, Redis frozen" },
          fromDatabase: true,
        });
      } finally {
        server.resume();
      }
    });
  },
);
