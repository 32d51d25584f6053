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
  type Instance = ReturnType<typeof instance>;

  /**
   * Caches a tenant's name through `reader`, then renames the tenant by raw SQL through `writer`, inside
   * `declarer.$cache.rawWrites({ tags: ["unrelated"] }, ...)`, and returns what `reader` reads after.
   */
  async function readAfterDeclaredRawWrite(declarer: Instance, writer: Instance, reader: Instance) {
    const tenant = await fixture().prisma.tenant.create({ data: { slug: `raw-${Date.now()}`, name: "before" } });
    const read = () => reader.tenant.findUnique({ where: { id: tenant.id }, select: { name: true }, cache: true });
    expect(await read()).toEqual({ name: "before" });
    await declarer.$cache.rawWrites(
      { tags: ["unrelated"] },
      async () => await writer.$executeRaw`UPDATE "Tenant" SET "name" = 'after' WHERE "id" = ${tenant.id}`,
    );
    return read();
  }

  it("one client's rawWrites declaration does not narrow another client's raw writes", async () => {
    const [a, b] = [instance("a:"), instance("b:")];
    // b's raw write declared nothing through b's handle: it invalidates every model of b's cache.
    expect(await readAfterDeclaredRawWrite(a, b, b)).toEqual({ name: "after" });
    await Promise.all([a.$cache.close(), b.$cache.close()]);
  });

  it("a client's own declaration still narrows its raw writes", async () => {
    const a = instance("c:");
    // Declared as changing only `unrelated`: the cached tenant is kept, as the caller said it may be.
    expect(await readAfterDeclaredRawWrite(a, a, a)).toEqual({ name: "before" });
    await a.$cache.close();
  });
});
