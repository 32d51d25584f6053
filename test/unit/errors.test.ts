/**
 * The error helpers of src/errors.ts and the codes the library chooses:
 * a failure reaches `onError` or the caller as a `CacheError` whatever threw
 * it; an option error on a query carries the query's code with the same
 * message; an unknown model given to `$cache` is an invalid argument
 * (`E_INVALID_OPTION`), not a malformed tag; a schema the parser cannot read
 * is a `CacheError` too.
 */
import { describe, expect, it } from "vitest";
import { asCacheError, withCode } from "../../src/errors.ts";
import { CacheError, cacheExtension, type CacheHandle } from "../../src/index.ts";
import { resolveOptions } from "../../src/options/resolve.ts";
import { planRead } from "../../src/read/query-plan.ts";
import { parseSchemaGraph } from "../../src/schema/schema-graph.ts";
import { catchCacheError } from "./support/cache-error.ts";
import { MODEL_NAMES, useSqliteFixture } from "./support/sqlite-client.ts";

describe("asCacheError", () => {
  it("keeps a CacheError as it is: it already names what failed", () => {
    const original = new CacheError("E_LOCK", "the lock could not be taken.");
    expect(asCacheError(original, "E_REDIS", "unused")).toBe(original);
  });

  it("wraps anything else with the given code and message, keeping it as the cause", () => {
    const raw = new TypeError("redis.mget is not a function");
    const wrapped = asCacheError(raw, "E_REDIS", "reading an entry failed.");
    expect(wrapped).toBeInstanceOf(CacheError);
    expect(wrapped.code).toBe("E_REDIS");
    expect(wrapped.message).toBe("prisma-query-cache [E_REDIS]: reading an entry failed.");
    expect(wrapped.cause).toBe(raw);
  });
});

describe("withCode", () => {
  it("is the same failure under another code: one prefix, the same message and cause", () => {
    const cause = new Error("underlying");
    const error = withCode(new CacheError("E_INVALID_OPTION", "option `cache.ttl` is -1.", cause), "E_LOCK");
    expect(error.code).toBe("E_LOCK");
    expect(error.message).toBe("prisma-query-cache [E_LOCK]: option `cache.ttl` is -1.");
    expect(error.cause).toBe(cause);
  });

  it("returns the error itself when it already has the code", () => {
    const error = new CacheError("E_REDIS", "x");
    expect(withCode(error, "E_REDIS")).toBe(error);
  });

  it("makes an invalid duration in a query's cache option an E_INVALID_QUERY_OPTION, worded as at $extends", () => {
    const options = resolveOptions(undefined, MODEL_NAMES);
    const error = catchCacheError(() => planRead(options, "User", { ttl: "soon" }), "E_INVALID_QUERY_OPTION");
    const atExtends = catchCacheError(
      () => resolveOptions({ defaults: { ttl: "soon" as "5s" } }, MODEL_NAMES),
      "E_INVALID_OPTION",
    );
    expect(error.message).toMatch(/^prisma-query-cache \[E_INVALID_QUERY_OPTION\]: option `cache\.ttl`/);
    expect(error.message.replace("cache.ttl", "defaults.ttl").replace("QUERY_OPTION", "OPTION")).toBe(
      atExtends.message,
    );
  });
});

describe("an unknown model given to $cache is an E_INVALID_OPTION naming it and the known models", () => {
  const fixture = useSqliteFixture();

  it.each([
    ["invalidate({ models })", "invalidate.models", (c: CacheHandle) => c.invalidate({ models: ["Nope"] })],
    ["invalidateModels", "invalidateModels.models", (c: CacheHandle) => c.invalidateModels(["Nope"])],
    ["invalidateQuery", "invalidateQuery", (c: CacheHandle) => c.invalidateQuery("Nope", "findMany", {})],
    ["getOrSet's models", "getOrSet.models", (c: CacheHandle) => c.getOrSet("k", () => 1, { models: ["Nope"] })],
    [
      "queryRaw's models",
      "queryRaw.models",
      (c: CacheHandle) => c.queryRaw({ sql: "SELECT 1", values: [] }, { models: ["Nope"] }),
    ],
  ])("%s", async (_call, where, call) => {
    const prisma = fixture().prisma.$extends(cacheExtension());
    const error = await call(prisma.$cache).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe("E_INVALID_OPTION");
    expect((error as CacheError).message).toContain(`${where} names \`Nope\`, which is no model of this Prisma client`);
    expect((error as CacheError).message).toContain(`Known models: ${MODEL_NAMES.join(", ")}`);
    await prisma.$cache.close();
  });

  it("an operation invalidateQuery never caches is an E_INVALID_OPTION too", async () => {
    const prisma = fixture().prisma.$extends(cacheExtension());
    await expect(prisma.$cache.invalidateQuery("User", "update" as "findMany", {})).rejects.toMatchObject({
      code: "E_INVALID_OPTION",
    });
    await prisma.$cache.close();
  });
});

describe("a schema the parser cannot read", () => {
  it("is a CacheError (E_PRISMA_INTERNALS) giving the line", () => {
    const error = catchCacheError(() => parseSchemaGraph("model A {\n  id Int @id;\n}\n"), "E_PRISMA_INTERNALS");
    expect(error.message).toContain("cannot parse the Prisma schema (line 2): unexpected character");
  });
});
