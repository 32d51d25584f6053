/**
 * Suite part 6: results never cross a context boundary, and a context that
 * cannot be resolved sends the read to the database, uncached, and reports it.
 */
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { CacheError } from "../../../src/index.js";
import { ALICE } from "../../helpers/fixture.js";
import { entryKeysUnder } from "../../helpers/services.js";
import type { Harness, TestClient } from "../../helpers/harness.js";

/** The same arguments for every tenant: the tenant-scoping extension below the cache picks the rows. */
const readAliceByEmail = (client: TestClient) =>
  client.prisma.user.findFirst({ where: { email: ALICE.email }, select: { name: true, tenantId: true }, cache: true });

export function describeContext(h: Harness): void {
  describe("context separation", () => {
    it("two tenants never share an entry", async () => {
      const { tenantId, otherTenantId } = h.fixture;
      let current = tenantId;
      const client = await h.client({
        context: () => ({ tenantId: current }),
        setup: { scopeUsersToTenant: () => current },
      });
      const ownAlice = { name: ALICE.name, tenantId };
      const otherAlice = { name: "Alice of the other tenant", tenantId: otherTenantId };

      expect(await readAliceByEmail(client)).toEqual(ownAlice);
      current = otherTenantId;
      expect(await readAliceByEmail(client)).toEqual(otherAlice);
      expect(client.database.queries).toBe(2);
      expect(client.prisma.$cache.stats()).toMatchObject({ misses: 2, l1Hits: 0, l1Entries: 2 });

      // Each tenant now hits its own entry.
      current = tenantId;
      expect(await readAliceByEmail(client)).toEqual(ownAlice);
      current = otherTenantId;
      expect(await readAliceByEmail(client)).toEqual(otherAlice);
      expect(client.database.queries).toBe(2);
      expect(client.prisma.$cache.stats()).toMatchObject({ misses: 2, l1Hits: 2 });

      if (h.hasRedis) {
        await client.prisma.$cache.settled();
        client.prisma.$cache.clearLocal();
        current = tenantId;
        expect(await readAliceByEmail(client)).toEqual(ownAlice);
        current = otherTenantId;
        expect(await readAliceByEmail(client)).toEqual(otherAlice);
        expect(client.prisma.$cache.stats()).toMatchObject({ misses: 2, l2Hits: 2 });
      }
      expect(client.log.errors).toEqual([]);
    });

    it("every dimension is part of the key, whatever order the context returns them in", async () => {
      let locale = "en";
      const { tenantId } = h.fixture;
      const client = await h.client({ context: () => (locale === "en" ? { tenantId, locale } : { locale, tenantId }) });
      await readAliceByEmail(client);
      locale = "fr";
      await readAliceByEmail(client);
      expect(client.database.queries).toBe(2);
      locale = "en";
      await readAliceByEmail(client);
      expect(client.database.queries).toBe(2);
    });

    const unresolvable: Array<[string, () => Record<string, string | number | null | undefined>, RegExp]> = [
      ["a dimension that is undefined", () => ({ tenantId: h.fixture.tenantId, locale: undefined }), /`locale`/],
      [
        "a context function that throws",
        () => {
          throw new Error("no request scope");
        },
        /threw/,
      ],
    ];
    for (const [name, context, message] of unresolvable) {
      it(`${name}: the read is served from the database, uncached, and E_CONTEXT is reported`, async () => {
        const client = await h.client({ context, setup: { scopeUsersToTenant: () => h.fixture.tenantId } });
        const expected = { name: ALICE.name, tenantId: h.fixture.tenantId };

        expect(await readAliceByEmail(client)).toEqual(expected);
        expect(await readAliceByEmail(client)).toEqual(expected);
        expect(client.database.queries).toBe(2);
        expect(client.prisma.$cache.stats()).toMatchObject({ l1Hits: 0, l2Hits: 0, l1Entries: 0, errors: 2 });
        expect(client.log.codes()).toEqual(["E_CONTEXT", "E_CONTEXT"]);
        const [error] = client.log.errors;
        expect(error).toBeInstanceOf(CacheError);
        expect(error?.message).toMatch(message);
        if (h.hasRedis) {
          await client.prisma.$cache.settled();
          expect(await entryKeysUnder(h.redis as Redis, client.prefix)).toEqual([]);
        }
      });
    }
  });
}
