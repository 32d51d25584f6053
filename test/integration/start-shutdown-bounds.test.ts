/**
 * Start and shutdown never wait on Redis, on private `redis-server`
 * processes the tests stop, freeze (SIGSTOP) and kill, through a real
 * Prisma client on Postgres:
 *
 * - `$cache.ready()` resolves within its `timeout` when Redis is down or
 *   frozen, saying why (and reporting it), reads are served meanwhile, and
 *   once Redis answers the in-process tier starts by itself;
 * - `$cache.close()` resolves with Redis frozen or dead, and reports that it
 *   could not leave the bus.
 *
 * "Within a bound" is asserted against a sentinel far beyond it (5 s): before
 * these bounds existed, both waited forever.
 */
import { Redis } from "ioredis";
import { beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe, type Instance } from "../helpers/harness.js";
import { freePort, privateRedisServers } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";

const STILL_WAITING = "still waiting after 5 s";

/** `promise`'s value, or {@link STILL_WAITING} if it has not settled within 5 s. */
async function within5s<T>(promise: Promise<T>): Promise<T | typeof STILL_WAITING> {
  let timer: NodeJS.Timeout | undefined;
  const sentinel = new Promise<typeof STILL_WAITING>((resolve) => (timer = setTimeout(resolve, 5_000, STILL_WAITING)));
  try {
    return await Promise.race([promise, sentinel]);
  } finally {
    clearTimeout(timer);
  }
}

describeWith(["postgres", "redis-server"], "bounded start and shutdown: postgres + private redis-server", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());

  /** A client to `port` that does not wait for it to connect (nothing may listen there yet), closed by the harness. */
  function clientOf(port: number): Redis {
    const redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    redis.on("error", () => undefined);
    return env.adopt(redis);
  }

  const readsOf = (w: { users: { alice: number } }) => (instance: Instance) => () =>
    instance.prisma.user.findUnique({ where: { id: w.users.alice }, select: { email: true }, cache: true });

  it("Redis down at start: ready() resolves at its timeout saying why, reads are served; Redis started later: in use", async () => {
    const w = await env.world("start-down");
    const port = await freePort();
    const instance = await env.instance({ redis: clientOf(port), redisTimeout: "100ms" });
    const alice = readsOf(w)(instance);

    const readiness = await within5s(instance.prisma.$cache.ready({ timeout: "300ms" }));
    expect(readiness).toMatchObject({ redis: "unavailable", reason: expect.stringMatching(/connection to Redis is/) });
    expect(instance.log.errors.some((e) => e.code === "E_REDIS" && /^.*ready\(\)/.test(e.message))).toBe(true);
    for (let i = 0; i < 3; i++) expect(await alice()).toEqual({ email: "alice@example.test" });

    await startServer({ port });
    expect(await within5s(instance.prisma.$cache.ready({ timeout: "4s" }))).toEqual({ redis: "connected" });
    await alice();
    await instance.prisma.$cache.settled();
    expect((await observe(instance, () => alice())).fromDatabase, "served by the cache once Redis is up").toBe(false);
  });

  it("Redis frozen at start: ready() resolves at its timeout saying why; after SIGCONT it resolves connected", async () => {
    const server = await startServer();
    const redis = clientOf(server.port);
    await redis.ping();
    server.pause();
    try {
      const instance = await env.instance({ redis, redisTimeout: "100ms" });
      const readiness = await within5s(instance.prisma.$cache.ready({ timeout: "300ms" }));
      expect(readiness).toMatchObject({ redis: "unavailable", reason: expect.any(String) });
      server.resume();
      expect(await within5s(instance.prisma.$cache.ready())).toEqual({ redis: "connected" });
    } finally {
      server.resume();
    }
  });

  it.each(["frozen", "killed"] as const)(
    "close() resolves with Redis %s, and reports that it could not leave the bus",
    async (fault) => {
      const server = await startServer();
      const instance = await env.instance({ redis: clientOf(server.port), redisTimeout: "100ms" });
      expect(await instance.prisma.$cache.ready()).toEqual({ redis: "connected" });
      if (fault === "frozen") server.pause();
      else await server.kill();
      try {
        expect(await within5s(instance.prisma.$cache.close())).toBeUndefined();
        const left = instance.log.errors.filter((e) => /could not leave the invalidation bus/.test(e.message));
        expect(left.map((e) => e.code)).toEqual(["E_REDIS"]);
      } finally {
        server.resume();
      }
    },
  );

  it("without Redis, ready() resolves at once with redis: none; an invalid timeout rejects naming it", async () => {
    const instance = await env.instance({ redis: false });
    expect(await instance.prisma.$cache.ready()).toEqual({ redis: "none" });
    await expect(instance.prisma.$cache.ready({ timeout: "soon" as "1s" })).rejects.toMatchObject({
      code: "E_INVALID_OPTION",
      message: expect.stringContaining("ready({ timeout })"),
    });
  });
});
