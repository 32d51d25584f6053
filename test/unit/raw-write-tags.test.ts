/**
 * The tags `$cache.rawWrites(target, fn)` declares belong to the client whose
 * handle declared them: a raw write through another client, even inside
 * that `fn`, still invalidates every model of its own cache. Two extension
 * instances (two prefixes, so they do not share versions) over one SQLite
 * file; no services.
 */
import { describe, expect, it } from "vitest";
import { cacheExtension } from "../../src/index.ts";
import { useSqliteFixture } from "./support/sqlite-client.ts";

describe("raw-write tags are per extension instance", () => {
  const fixture = useSqliteFixture();

  const instance = (prefix: string) => fixture().prisma.$extends(cacheExtension({ prefix }));

  it("one client's rawWrites declaration does not narrow another client's raw writes", async () => {
    const a = instance("a:");
    const b = instance("b:");
    const tenant = await fixture().prisma.tenant.create({ data: { slug: "raw-per-instance", name: "before" } });
    const readB = () => b.tenant.findUnique({ where: { id: tenant.id }, select: { name: true }, cache: true });
    expect(await readB()).toEqual({ name: "before" });

    await a.$cache.rawWrites(
      { tags: ["unrelated"] },
      async () => await b.$executeRaw`UPDATE "Tenant" SET "name" = 'after' WHERE "id" = ${tenant.id}`,
    );

    // b's raw write declared nothing through b's handle: it invalidates every model of b's cache.
    expect(await readB()).toEqual({ name: "after" });
    await Promise.all([a.$cache.close(), b.$cache.close()]);
  });

  it("a client's own declaration still narrows its raw writes", async () => {
    const a = instance("c:");
    const tenant = await fixture().prisma.tenant.create({ data: { slug: "raw-own", name: "before" } });
    const readA = () => a.tenant.findUnique({ where: { id: tenant.id }, select: { name: true }, cache: true });
    expect(await readA()).toEqual({ name: "before" });
    await a.$cache.rawWrites(
      { tags: ["unrelated"] },
      async () => await a.$executeRaw`UPDATE "Tenant" SET "name" = 'after' WHERE "id" = ${tenant.id}`,
    );
    // Declared as changing only `unrelated`: the cached tenant is kept, as the caller said it may be.
    expect(await readA()).toEqual({ name: "before" });
    await a.$cache.close();
  });
});
