/**
 * Consistency contract, item 1, through the fluent API: a write followed by
 * a relation call (`update(...).posts()`) resolves to the related rows, not
 * the written one, yet must invalidate exactly what the same write without
 * the fluent call would, and resolve to what Prisma returns for it.
 */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import { expectFresh, unique, unusedId, warm, type Harness, type Read } from "../../helpers/harness.js";

/**
 * A write's promise with Prisma's fluent relation methods. The cached client types its methods without them
 * (docs/concepts.md); at run time they are there.
 */
type FluentCall = PromiseLike<unknown> &
  Readonly<Record<"posts" | "profile" | "manager" | "user", (args?: object) => FluentCall>>;
const fluent = (write: PromiseLike<unknown>): FluentCall => write as FluentCall;

export function describeFluentWrites(env: Harness): void {
  describe("fluent writes invalidate the row they wrote (contract item 1)", () => {
    async function setUp(label: string) {
      const w = await env.world(label);
      const scene = await env.scene();
      const byId =
        (id: number): Read<unknown> =>
        (p) =>
          p.user.findUnique({ where: { id }, select: { name: true, email: true }, cache: true });
      const names: Read<unknown> = (p) =>
        p.user.findMany({
          where: { tenantId: w.tenantId },
          select: { name: true },
          orderBy: { id: "asc" },
          cache: true,
        });
      const byEmail =
        (email: string): Read<unknown> =>
        (p) =>
          p.user.findUnique({
            where: { tenantId_email: { tenantId: w.tenantId, email } },
            select: { name: true },
            cache: true,
          });
      return { w, scene, prisma: scene.main.prisma, byId, names, byEmail };
    }

    it("update by another unique key, then .posts() (an empty list): the primary-key lookup and the list see the new name", async () => {
      const { w, scene, prisma, byId, names } = await setUp("fluent-update");
      await warm(scene, byId(w.users.carol));
      const before = (await warm(scene, names)) as { name: string | null }[];

      const posts = await fluent(
        prisma.user.update({
          where: { tenantId_email: { tenantId: w.tenantId, email: "carol@example.test" } },
          data: { name: "Renamed" },
        }),
      ).posts();

      expect(posts, "what Prisma resolves it to: Carol's (no) posts").toEqual([]);
      await expectFresh(scene, byId(w.users.carol), { name: "Renamed", email: "carol@example.test" });
      await expectFresh(
        scene,
        names,
        before.map((row) => (row.name === "Carol" ? { name: "Renamed" } : row)),
      );
    });

    it("update by primary key, then .profile(): resolves to the profile, and the user's lookup sees the change", async () => {
      const { w, scene, prisma, byId } = await setUp("fluent-update-profile");
      await warm(scene, byId(w.users.bob));
      const expected = await env.bare.profile.findUnique({ where: { userId: w.users.bob } });

      const profile = await fluent(
        prisma.user.update({ where: { id: w.users.bob }, data: { name: "Robert" } }),
      ).profile();

      expect(profile).toEqual(expected);
      await expectFresh(scene, byId(w.users.bob), { name: "Robert", email: "bob@example.test" });
    });

    it("a chain of two relations (.manager().posts()): the written row's lookup sees the change", async () => {
      const { w, scene, prisma, byId } = await setUp("fluent-chain");
      await warm(scene, byId(w.users.bob));
      const expected = await env.bare.post.findMany({ where: { authorId: w.users.alice } });

      const posts = (await fluent(prisma.user.update({ where: { id: w.users.bob }, data: { name: "Robert" } }))
        .manager()
        .posts()) as { id: number }[];

      expect(new Set(posts.map((post) => post.id))).toEqual(new Set(expected.map((post) => post.id)));
      await expectFresh(scene, byId(w.users.bob), { name: "Robert", email: "bob@example.test" });
    });

    it("upsert, then .posts(): the update branch renames, the create branch replaces a cached null", async () => {
      const { w, scene, prisma, byId, byEmail } = await setUp("fluent-upsert");
      const email = `${unique("upserted")}@example.test`;
      await warm(scene, byId(w.users.carol));
      expect(await warm(scene, byEmail(email))).toBeNull();

      const where = (address: string) => ({ tenantId_email: { tenantId: w.tenantId, email: address } });
      expect(
        await fluent(
          prisma.user.upsert({
            where: where("carol@example.test"),
            create: { tenantId: w.tenantId, email: "carol@example.test" },
            update: { name: "Updated" },
          }),
        ).posts(),
      ).toEqual([]);
      expect(
        await fluent(
          prisma.user.upsert({
            where: where(email),
            create: { tenantId: w.tenantId, email, name: "Created" },
            update: {},
          }),
        ).posts(),
      ).toEqual([]);

      await expectFresh(scene, byId(w.users.carol), { name: "Updated", email: "carol@example.test" });
      await expectFresh(scene, byEmail(email), { name: "Created" });
    });

    it.each(["posts", "profile"] as const)(
      "create, then .%s(): cached nulls by the new row's unique key and primary key see the row",
      async (relation) => {
        const { w, scene, prisma, byEmail, byId } = await setUp(`fluent-create-${relation}`);
        const email = `${unique("created")}@example.test`;
        const id = unusedId();
        expect(await warm(scene, byEmail(email))).toBeNull();
        expect(await warm(scene, byId(id))).toBeNull();

        const related = await fluent(
          prisma.user.create({
            data: { id, tenantId: w.tenantId, email, name: "New", profile: { create: { bio: "hello" } } },
          }),
        )[relation]();

        expect(related).toEqual(relation === "posts" ? [] : expect.objectContaining({ userId: id, bio: "hello" }));
        await expectFresh(scene, byEmail(email), { name: "New" });
        await expectFresh(scene, byId(id), { name: "New", email });
      },
    );

    it("delete of a 1-1 row by its unique foreign key, then .user(): the deleted row is no longer served", async () => {
      const { w, scene, prisma } = await setUp("fluent-delete");
      const { id: profileId } = await env.bare.profile.findUniqueOrThrow({ where: { userId: w.users.carol } });
      const profileById: Read<unknown> = (p) =>
        p.profile.findUnique({ where: { id: profileId }, select: { bio: true }, cache: true });
      const profileByUser: Read<unknown> = (p) =>
        p.profile.findUnique({ where: { userId: w.users.carol }, select: { bio: true }, cache: true });
      await warm(scene, profileById);
      await warm(scene, profileByUser);

      const user = await fluent(prisma.profile.delete({ where: { userId: w.users.carol } })).user();

      expect(user).toMatchObject({ id: w.users.carol, name: "Carol" });
      await expectFresh(scene, profileById, null);
      await expectFresh(scene, profileByUser, null);
    });

    it("inside an interactive transaction and a batch one: invalidated at the commit, as without the fluent call", async () => {
      const { w, scene, prisma, byId } = await setUp("fluent-transactions");
      await warm(scene, byId(w.users.carol));
      await warm(scene, byId(w.users.bob));

      const inside = await prisma.$transaction(async (tx) =>
        fluent(tx.user.update({ where: { id: w.users.carol }, data: { name: "Interactive" } })).posts(),
      );
      const [batched] = await prisma.$transaction([
        fluent(prisma.user.update({ where: { id: w.users.bob }, data: { name: "Batched" } })).profile() as never,
      ]);

      expect(inside).toEqual([]);
      expect(batched).toMatchObject({ userId: w.users.bob });
      await expectFresh(scene, byId(w.users.carol), { name: "Interactive", email: "carol@example.test" });
      await expectFresh(scene, byId(w.users.bob), { name: "Batched", email: "bob@example.test" });
    });

    it("the write's own `cache: { invalidates }` still applies", async () => {
      const { w, scene, prisma } = await setUp("fluent-custom-tag");
      const tag = unique("fluent-tag");
      const tagged: Read<unknown> = (p: CachedPrisma) =>
        p.post.count({ where: { tenantId: w.tenantId }, cache: { tags: [tag] } });
      const count = await warm(scene, tagged);
      await env.bare.post.create({
        data: { tenantId: w.tenantId, slug: unique("behind"), title: "Behind the cache's back" },
      });

      await fluent(
        prisma.user.update({ where: { id: w.users.carol }, data: { name: "Tagged" }, cache: { invalidates: [tag] } }),
      ).posts();

      await expectFresh(scene, tagged, (count as number) + 1);
    });
  });
}
