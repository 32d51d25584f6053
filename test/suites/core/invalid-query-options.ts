/**
 * Suite part 10: an invalid per-query `cache` option rejects the read, naming the option; the database is not asked.
 */
import { describe, expect, it } from "vitest";
import { CacheError, type QueryCacheOption } from "../../../src/index.js";
import type { Harness } from "../../helpers/harness.js";

/** The error `promise` rejects with; fails the test if it resolves. */
async function rejectionOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the read to reject, but it resolved");
}

const invalid: Array<[string, unknown, string]> = [
  ["a negative ttl", { ttl: -1 }, "`cache.ttl`"],
  ["a zero ttl", { ttl: 0 }, "`cache.ttl`"],
  ["a ttl that is not a duration", { ttl: "soon" }, "`cache.ttl`"],
  ["a negative negativeTtl", { negativeTtl: -5 }, "`cache.negativeTtl`"],
  ["an unknown key", { bogus: 1 }, "`cache.bogus`"],
  ["a string", "yes", "`cache`"],
  ["null", null, "`cache`"],
];

export function describeInvalidQueryOptions(h: Harness): void {
  describe("invalid per-query cache option", () => {
    for (const [name, option, named] of invalid) {
      it(`${name} rejects with E_INVALID_QUERY_OPTION naming ${named}`, async () => {
        const client = await h.client();
        const error = await rejectionOf(
          client.prisma.user.findMany({ where: { tenantId: h.fixture.tenantId }, cache: option as QueryCacheOption }),
        );
        expect(error).toBeInstanceOf(CacheError);
        expect(error).toMatchObject({ code: "E_INVALID_QUERY_OPTION" });
        expect((error as CacheError).message).toContain(named);
        expect(client.database.queries).toBe(0);
      });
    }

    it("is reported when the read is awaited, not when it is built", async () => {
      const client = await h.client();
      const pending = client.prisma.user.findMany({ cache: { ttl: -1 } });
      expect(client.database.queries).toBe(0);
      await expect(pending).rejects.toBeInstanceOf(CacheError);
    });
  });
}
