/**
 * RedisClientLike declares every method the library calls on the caller's
 * client, and `$extends` checks exactly those (src/redis/client.ts). This
 * file holds the declaration to the code: two instances run reads, a write,
 * an explicit invalidation and a close through a real ioredis client
 * wrapped so that every method the library takes from it is recorded, and
 * none may be missing from the declared surface. SQLite and real Redis.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cacheExtension } from "../../src/index.ts";
import { REDIS_METHODS } from "../../src/redis/client.ts";
import { createSqliteDatabase, sqliteClient, type BareClient } from "../helpers/clients.ts";
import { describeWith } from "../helpers/describe-with.ts";
import { deleteKeysUnder, REDIS_URL } from "../helpers/services.ts";

/** Methods RedisClientLike declares optional, used when the client has them. */
const OPTIONAL_METHODS = ["pipeline", "on"];

/** `client` behind a Proxy that records the name of every method read from it. */
function recording(client: Redis, called: Set<string>): Redis {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (typeof property === "string") called.add(property);
      // ioredis calls its own methods through `this`: they run on the client itself, unrecorded.
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}

describeWith(["redis"], "the methods the library calls on a client are those RedisClientLike declares", () => {
  const prefix = `it-surface-${process.pid}-${Date.now()}:`;
  let database: Awaited<ReturnType<typeof createSqliteDatabase>>;
  let bare: BareClient;
  let admin: Redis;

  beforeAll(async () => {
    database = await createSqliteDatabase("surface");
    bare = sqliteClient(database.file);
    admin = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await deleteKeysUnder(admin, prefix);
    admin.disconnect();
    await bare?.$disconnect();
    database?.remove();
  });

  it("over reads, a write, an explicit invalidation and close on two instances", async () => {
    const called = new Set<string>();
    const [a, b] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    const writer = bare.$extends(cacheExtension({ redis: recording(a, called), prefix }));
    const reader = bare.$extends(cacheExtension({ redis: recording(b, called), prefix }));
    try {
      await Promise.all([writer.$cache.ready(), reader.$cache.ready()]);
      const tenant = await writer.tenant.create({ data: { slug: `surface-${Date.now()}`, name: "before" } });
      const read = (client: typeof reader) =>
        client.tenant.findUnique({ where: { id: tenant.id }, select: { name: true }, cache: true });
      expect(await read(writer)).toEqual({ name: "before" });
      expect(await read(reader)).toEqual({ name: "before" });
      await writer.tenant.update({ where: { id: tenant.id }, data: { name: "after" } });
      expect(await read(reader)).toEqual({ name: "after" });
      await writer.$cache.invalidate({ tags: ["surface"] });
    } finally {
      await Promise.all([writer.$cache.close(), reader.$cache.close()]);
      a.disconnect();
      b.disconnect();
    }

    const declared = new Set([...Object.keys(REDIS_METHODS), ...OPTIONAL_METHODS]);
    expect([...called].filter((method) => !declared.has(method))).toEqual([]);
    // The run went through each part of the library that talks to Redis: entries, scripts, the bus, the start-up check.
    expect([...called]).toEqual(expect.arrayContaining(["mget", "evalsha", "publish", "zrem", "duplicate", "config"]));
  });
});
