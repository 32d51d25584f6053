/**
 * Suite part: one arguments object, changed after the call (contract item 8,
 * a key never returns another query's result). Prisma reads a query's
 * arguments when the query is awaited (its promises are lazy); the cache
 * takes its key at that same moment, and must load exactly that query, even
 * when the caller changes its object while the cache waits for Redis.
 */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import type { Harness } from "../../helpers/harness.js";

/** The arguments object callers reuse: `where.id` is changed between calls. */
interface ReusedArgs {
  where: { id: number };
  select: { id: true; email: true };
  cache?: true;
}

export function describeArgumentReuse(h: Harness): void {
  describe("arguments changed after the call (contract item 8)", () => {
    const ids = () => [h.fixture.users.alice, h.fixture.users.bob, h.fixture.users.carol];
    const emailOf = async (id: number) => (await h.bare.user.findUniqueOrThrow({ where: { id } })).email;
    const reused = (cached: boolean): ReusedArgs => ({
      where: { id: 0 },
      select: { id: true, email: true },
      ...(cached ? { cache: true as const } : {}),
    });

    /**
     * Calls `findUnique` once per id with one object, changing it before each
     * call and awaiting each as it is made (`.then()` at once), or all at the
     * end (`Promise.all`, which awaits them after the last change).
     */
    function readAll(prisma: CachedPrisma, args: ReusedArgs, awaitEach: boolean): Promise<unknown[]> {
      const calls = ids().map((id) => {
        args.where.id = id;
        const call = prisma.user.findUnique(args);
        return awaitEach ? call.then((row) => row) : call;
      });
      return Promise.all(calls);
    }

    /**
     * Each id's own row, read afresh through a new client on `prefix` (Redis, when the target has it) and through
     * `prisma`.
     */
    async function expectEveryKeyHoldsItsOwnRow(prisma: CachedPrisma, prefix: string): Promise<void> {
      await prisma.$cache.settled();
      const other = await h.client({ prefix });
      for (const id of ids()) {
        const expected = { id, email: await emailOf(id) };
        expect(
          await prisma.user.findUnique({ where: { id }, select: { id: true, email: true }, cache: true }),
          `id ${id} on the same client`,
        ).toEqual(expected);
        expect(
          await other.prisma.user.findUnique({ where: { id }, select: { id: true, email: true }, cache: true }),
          `id ${id} on another client`,
        ).toEqual(expected);
      }
    }

    it.each([
      ["awaited as each call is made", true],
      ["awaited together after the last change (Promise.all)", false],
    ] as const)(
      "reused for several calls, %s: the same rows as Prisma returns, each cached under its own key",
      async (_label, awaitEach) => {
        const { prisma, prefix } = await h.client();
        const expected = await readAll(h.bare as unknown as CachedPrisma, reused(false), awaitEach);
        if (awaitEach)
          expect(expected, "Prisma reads the arguments when each is awaited").toEqual(
            await Promise.all(ids().map(async (id) => ({ id, email: await emailOf(id) }))),
          );

        expect(await readAll(prisma, reused(true), awaitEach)).toEqual(expected);
        await expectEveryKeyHoldsItsOwnRow(prisma, prefix);
      },
    );

    it("changed while a miss waits for Redis (after it was awaited): the row of the key it was awaited with", async () => {
      const { prisma, prefix } = await h.client();
      const [alice, bob] = ids() as [number, number];
      const args = reused(true);
      args.where.id = alice;
      const pending = prisma.user.findUnique(args).then((row) => row);
      args.where.id = bob;

      expect(await pending).toEqual({ id: alice, email: await emailOf(alice) });
      await expectEveryKeyHoldsItsOwnRow(prisma, prefix);
    });

    it("a Buffer in the arguments, refilled while a miss waits: the row of the bytes it was awaited with", async () => {
      const { prisma } = await h.client();
      const alice = await h.bare.user.findUniqueOrThrow({ where: { id: h.fixture.users.alice } });
      const bytes = Buffer.from(alice.avatar as Uint8Array);
      const byAvatar = (avatar: Uint8Array<ArrayBuffer>) =>
        prisma.user.findFirst({ where: { avatar: { equals: avatar } }, select: { email: true }, cache: true });
      const pending = byAvatar(bytes).then((row) => row);
      bytes.fill(7);

      expect(await pending).toEqual({ email: alice.email });
      expect(
        await byAvatar(Buffer.from(alice.avatar as Uint8Array)),
        "the entry under Alice's bytes is Alice's row",
      ).toEqual({ email: alice.email });
    });

    it("the same inside a request scope, opted in or not", async () => {
      const { prisma, prefix } = await h.client();
      const [alice, bob] = ids() as [number, number];
      await prisma.$cache.scope(async () => {
        for (const cached of [true, false]) {
          const args = reused(cached);
          args.where.id = alice;
          const pending = prisma.user.findUnique(args).then((row) => row);
          args.where.id = bob;
          expect(await pending, cached ? "opted in" : "scope only").toEqual({ id: alice, email: await emailOf(alice) });
          expect(await prisma.user.findUnique(args), "the scope keeps each under its own key").toEqual({
            id: bob,
            email: await emailOf(bob),
          });
        }
      });
      await expectEveryKeyHoldsItsOwnRow(prisma, prefix);
    });
  });
}
