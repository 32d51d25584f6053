/**
 * Events for logs (`logger`): each read outcome, refresh, invalidation and
 * absorbed failure reaches the level it belongs to, keys hashed unless
 * `logRawKeys`; a level without a method costs nothing; a throwing logger
 * never breaks a read. Real Postgres and Redis through a real Prisma client.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CacheEvent, CacheLogger } from "../../src/index.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";

/** A logger that keeps what it is given, by level. */
function recordingLogger() {
  const lines: { level: string; event: CacheEvent; message: string }[] = [];
  const at =
    (level: string) =>
    (event: CacheEvent, message: string): void =>
      void lines.push({ level, event, message });
  const logger: CacheLogger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

describeWith(["postgres", "redis"], "log events: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it("logs a miss, a hit, a stale hit and its refresh at debug, an invalidation at info; keys hashed", async () => {
    const w = await env.world("log-events");
    const { logger, lines } = recordingLogger();
    const { prisma, clock } = await env.client({ logger, defaults: { ttl: 10, swr: 60 } });
    const read = () =>
      prisma.user.findFirst({ where: { tenantId: w.tenantId, email: "alice@example.test" }, cache: true });
    await read();
    await read();
    clock.advance(11_000);
    await read();
    await prisma.$cache.settled();
    await prisma.$cache.invalidate({ models: ["Post"] });

    const types = lines.map((line) => `${line.level}:${line.event.type}`);
    expect(types).toEqual(["debug:miss", "debug:hit", "debug:stale", "debug:refresh", "info:invalidate"]);
    expect(lines[1]?.event).toMatchObject({ type: "hit", tier: "l1", model: "User", operation: "findFirst" });
    expect(lines[1]?.message).toBe("cache hit (l1) User.findFirst");
    const key = (lines[0]?.event as { key: string }).key;
    expect(key).toMatch(/^[\w-]{16}$/);
    expect(JSON.stringify(lines), "no key text, no argument value").not.toContain("alice@example.test");
    expect(lines[4]?.event).toMatchObject({ type: "invalidate", cause: "api" });
  });

  it("logRawKeys logs key texts; a failure is logged at warn; a throwing logger breaks nothing", async () => {
    const w = await env.world("log-raw");
    const { logger, lines } = recordingLogger();
    const raw = await env.client({ logger, logRawKeys: true });
    await raw.prisma.user.findUnique({ where: { id: w.users.bob }, cache: true });
    expect((lines[0]?.event as { key: string }).key).toContain(`"id":${w.users.bob}`);

    // A context that throws is an absorbed failure (E_CONTEXT): the read goes to the database, the logger hears it.
    const failing = await env.client({
      logger,
      context: () => {
        throw new Error("no tenant");
      },
    });
    const before = lines.length;
    await failing.prisma.user.findUnique({ where: { id: w.users.bob }, cache: true });
    expect(lines.slice(before).map((line) => `${line.level}:${line.event.type}`)).toEqual(["warn:error"]);
    expect(lines.at(-1)?.event).toMatchObject({ type: "error", code: "E_CONTEXT" });

    const throwing = await env.client({
      logger: {
        debug: () => {
          throw new Error("logger down");
        },
      },
    });
    const read = () =>
      throwing.prisma.user.findUnique({ where: { id: w.users.carol }, select: { id: true }, cache: true });
    await expect(read()).resolves.toEqual({ id: w.users.carol });
    await expect(read()).resolves.toEqual({ id: w.users.carol });
    expect(throwing.prisma.$cache.stats().l1Hits).toBe(1);
  });
});
