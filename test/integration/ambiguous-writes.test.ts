/**
 * Ambiguous commits outside an interactive transaction (issue 12): the
 * connection to Postgres drops after the server committed a write and before
 * its answer reached the client. The caller gets an error, the row changed
 * anyway, and every instance must stop serving the pre-write row before that
 * error reaches the caller (consistency contract, item 1).
 *
 * The writer's client goes through a proxy (test/helpers/cutting-proxy.ts)
 * that forwards the write's statement or its `COMMIT`, lets the server answer,
 * drops the answer and closes the connection. Each case checks its premise
 * (the database holds the new row), then counts the reads, on the writer and
 * on a peer with its own in-process tier, that return anything but what the
 * database holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresClient, type BareClient, type CachedPrisma } from "../helpers/clients.js";
import { startCuttingProxy, type CutMode, type CuttingProxy } from "../helpers/cutting-proxy.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe, type Instance } from "../helpers/harness.js";
import { DATABASE_URL } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";
import type { Fixture } from "../helpers/fixture.js";
import type { Prisma } from "../generated/postgres/client.ts";

const ADMIN_SHUTDOWN: CutMode = {
  fatal: { code: "57P01", message: "terminating connection due to administrator command" },
};
const PGBOUNCER_SERVER_CRASHED: CutMode = { fatal: { code: "08P01", message: "server conn crashed?" } };

describeWith(["postgres", "redis"], "ambiguous commits: postgres + redis, a proxy that cuts after the commit", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  let proxy: CuttingProxy;
  const proxied: BareClient[] = [];
  beforeAll(async () => {
    await env.start();
    proxy = await startCuttingProxy(DATABASE_URL);
  });
  afterAll(async () => {
    await env.stop();
    for (const bare of proxied) await bare.$disconnect();
    await proxy.close();
  });

  /** A writer whose database connection goes through the proxy, and a peer on the same prefix (both tiers each). */
  async function writerAndPeer(): Promise<{ writer: Instance; peer: Instance }> {
    const over = postgresClient(proxy.url);
    proxied.push(over);
    const writer = await env.instance({ over });
    const peer = await env.instance({ over: env.connect(), prefix: writer.prefix });
    return { writer, peer };
  }

  /** A read of a case: cached, or with `cache: false` straight from the database (the oracle). */
  type CaseRead = (prisma: CachedPrisma, cache?: boolean) => PromiseLike<unknown>;

  /** Reads `reads` on each instance until the in-process tier answers them all. */
  async function warm(instances: readonly Instance[], reads: readonly CaseRead[]): Promise<void> {
    for (const instance of instances) {
      for (const read of reads) await read(instance.prisma);
      await instance.prisma.$cache.settled();
      for (const read of reads)
        expect((await observe(instance, read)).fromDatabase, "warmed: answered by the cache").toBe(false);
    }
  }

  /** Reads that differ from what the database returns for the same read (`cache: false`, through the peer). */
  async function staleReads(instances: readonly Instance[], reads: readonly CaseRead[]): Promise<number> {
    let stale = 0;
    for (const read of reads) {
      const truth = await read((instances.at(-1) as Instance).prisma, false);
      for (const instance of instances)
        if (JSON.stringify(await read(instance.prisma)) !== JSON.stringify(truth)) stale++;
    }
    return stale;
  }

  const userName =
    (w: Fixture): CaseRead =>
    (p, cache = true) =>
      p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache });
  const tenantUsers =
    (w: Fixture): CaseRead =>
    (p, cache = true) =>
      p.user.findMany({
        where: { tenantId: w.tenantId },
        select: { id: true, name: true },
        orderBy: { id: "asc" },
        cache,
      });
  const carolsPosts =
    (w: Fixture): CaseRead =>
    (p, cache = true) =>
      p.post.findMany({
        where: { authorId: w.users.carol },
        select: { slug: true },
        orderBy: { id: "asc" },
        cache,
      });

  /**
   * One kind of write: what it reads, the pattern of the message after which the proxy cuts, the write (through the
   * writer's client), and a check that the database holds its effect.
   */
  interface Case {
    name: string;
    cutAfter: RegExp;
    /** How the proxy cuts (cutting-proxy.ts): "close" by default. */
    how?: CutMode;
    /** What the caller's error says: "Connection terminated" by default. */
    error?: RegExp;
    reads(w: Fixture): CaseRead[];
    write(p: CachedPrisma, w: Fixture): Promise<unknown>;
    committed(w: Fixture): Promise<boolean>;
  }

  const carolIs = (name: string) => async (w: Fixture) =>
    (await env.bare.user.findUnique({ where: { id: w.users.carol } }))?.name === name;

  const cases: Case[] = [
    {
      name: "a plain update (an autocommit UPDATE)",
      cutAfter: /UPDATE "public"."User"/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.user.update({ where: { id: w.users.carol }, data: { name: "Cut update" } }),
      committed: carolIs("Cut update"),
    },
    {
      name: "a nested write (Prisma's own transaction, cut after COMMIT)",
      cutAfter: /COMMIT/,
      reads: (w) => [userName(w), carolsPosts(w)],
      write: (p, w) =>
        p.user.update({
          where: { id: w.users.carol },
          data: {
            name: "Cut nested",
            posts: { create: { tenantId: w.tenantId, slug: `cut-${w.suffix}`, title: "t" } },
          },
        }),
      committed: carolIs("Cut nested"),
    },
    {
      name: "updateMany",
      cutAfter: /UPDATE "public"."User"/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.user.updateMany({ where: { id: w.users.carol }, data: { name: "Cut many" } }),
      committed: carolIs("Cut many"),
    },
    {
      name: "a batch $transaction([...]) (cut after COMMIT)",
      cutAfter: /COMMIT/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) =>
        p.$transaction([
          p.user.update({ where: { id: w.users.carol }, data: { name: "Cut batch" } }),
          p.tenant.update({ where: { id: w.tenantId }, data: { name: `Cut batch ${w.suffix}` } }),
        ]),
      committed: carolIs("Cut batch"),
    },
    {
      name: "a raw write ($executeRawUnsafe)",
      cutAfter: /UPDATE "User"/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.$executeRawUnsafe(`UPDATE "User" SET name = 'Cut raw' WHERE id = ${w.users.carol}`),
      committed: carolIs("Cut raw"),
    },
    // The same cuts, as Prisma 7 reports other ways a connection dies. A TCP reset is the pg adapter's
    // ConnectionClosed, and a FATAL ErrorResponse (Postgres shutting down: 57P01; PgBouncer losing its server
    // connection: 08P01 "server conn crashed?") its `postgres` kind. Prisma maps every driver error of a raw
    // statement to P2010 "Raw query failed" and a `postgres` error of a model write to P2039 "Database error":
    // P2 codes that are not refusals (src/prisma/write-failure.ts reads the driver cause under them).
    {
      name: "a raw write reset (ECONNRESET -> P2010, not a refusal)",
      cutAfter: /UPDATE "User"/,
      how: "reset",
      error: /Raw query failed.*Server has closed the connection/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.$executeRawUnsafe(`UPDATE "User" SET name = 'Reset raw' WHERE id = ${w.users.carol}`),
      committed: carolIs("Reset raw"),
    },
    {
      name: "a raw write, Postgres shutting down (FATAL 57P01 -> P2010, not a refusal)",
      cutAfter: /UPDATE "User"/,
      how: ADMIN_SHUTDOWN,
      error: /Raw query failed. Code: `57P01`/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.$executeRawUnsafe(`UPDATE "User" SET name = 'Shutdown raw' WHERE id = ${w.users.carol}`),
      committed: carolIs("Shutdown raw"),
    },
    {
      name: "a plain update, Postgres shutting down (FATAL 57P01 -> P2039, not a refusal)",
      cutAfter: /UPDATE "public"."User"/,
      how: ADMIN_SHUTDOWN,
      error: /Database error. Code: `57P01`/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.user.update({ where: { id: w.users.carol }, data: { name: "Shutdown update" } }),
      committed: carolIs("Shutdown update"),
    },
    {
      name: "a plain update through PgBouncer, server connection lost (FATAL 08P01 -> P2039, not a refusal)",
      cutAfter: /UPDATE "public"."User"/,
      how: PGBOUNCER_SERVER_CRASHED,
      error: /Database error. Code: `08P01`/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.user.update({ where: { id: w.users.carol }, data: { name: "Bouncer update" } }),
      committed: carolIs("Bouncer update"),
    },
    {
      name: "updateMany through PgBouncer, server connection lost (FATAL 08P01 -> P2039, not a refusal)",
      cutAfter: /UPDATE "public"."User"/,
      how: PGBOUNCER_SERVER_CRASHED,
      error: /Database error. Code: `08P01`/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.user.updateMany({ where: { id: w.users.carol }, data: { name: "Bouncer many" } }),
      committed: carolIs("Bouncer many"),
    },
    // A model write's reset is P1017; a batch's COMMIT cut by a FATAL answer is not mapped to a P2 code.
    {
      name: "a plain update reset (ECONNRESET -> P1017)",
      cutAfter: /UPDATE "public"."User"/,
      how: "reset",
      error: /Server has closed the connection/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) => p.user.update({ where: { id: w.users.carol }, data: { name: "Reset update" } }),
      committed: carolIs("Reset update"),
    },
    {
      name: "a batch $transaction([...]) cut after COMMIT by FATAL 57P01",
      cutAfter: /COMMIT/,
      how: ADMIN_SHUTDOWN,
      error: /57P01|administrator command/,
      reads: (w) => [userName(w), tenantUsers(w)],
      write: (p, w) =>
        p.$transaction([
          p.user.update({ where: { id: w.users.carol }, data: { name: "Shutdown batch" } }),
          p.tenant.update({ where: { id: w.tenantId }, data: { name: `Shutdown batch ${w.suffix}` } }),
        ]),
      committed: carolIs("Shutdown batch"),
    },
  ];

  describe("a write whose connection drops after the server committed", () => {
    for (const kind of cases) {
      it(`${kind.name}: rejects, and no instance serves the pre-write data afterwards`, async () => {
        const w = await env.world("ambiguous");
        const { writer, peer } = await writerAndPeer();
        const reads = kind.reads(w);
        await warm([writer, peer], reads);

        const cut = proxy.cutAfter(kind.cutAfter, kind.how);
        await expect(kind.write(writer.prisma, w)).rejects.toThrow(kind.error ?? /Connection terminated/);
        await cut;
        expect(await kind.committed(w), "premise: the server committed the write").toBe(true);

        expect(await staleReads([writer, peer], reads), "reads returning pre-write data").toBe(0);
      });
    }
  });

  describe("when the error reaches the caller: after the invalidations a failed batch's writes started", () => {
    /** The element put before the update: it rejects at once with the batch's error. */
    const firstElements: { name: string; element(p: CachedPrisma, w: Fixture): Prisma.PrismaPromise<unknown> }[] = [
      { name: "a model read", element: (p, w) => p.tenant.findUnique({ where: { id: w.tenantId } }) },
      {
        name: "a read opted into the cache",
        element: (p, w) => p.tenant.findUnique({ where: { id: w.tenantId }, cache: true }),
      },
      { name: "a raw read", element: (p) => p.$queryRawUnsafe("SELECT 1 AS one") },
    ];
    for (const first of firstElements) {
      it(`a batch $transaction([${first.name}, update]) cut after COMMIT: when it rejects, the update's invalidation is done (the writer's next read is fresh)`, async () => {
        const w = await env.world("ambiguous-batch-order");
        const { writer, peer } = await writerAndPeer();
        const read = userName(w);
        await warm([writer, peer], [read]);

        const name = `Cut batch ${w.suffix}`;
        const cut = proxy.cutAfter(/COMMIT/);
        // The first element rejects at once with the batch's error, and Prisma's batch rejects on the first element
        // that does; without batch-invalidations.ts the update element was still invalidating in whenWriteFails then.
        const failed = await writer.prisma
          .$transaction([
            first.element(writer.prisma, w),
            writer.prisma.user.update({ where: { id: w.users.carol }, data: { name } }),
          ])
          .then(
            () => false,
            () => true,
          );
        const right = await read(writer.prisma); // immediately after the rejection, as a caller retrying would
        expect(failed, "the batch rejected").toBe(true);
        await cut;
        expect((await env.bare.user.findUnique({ where: { id: w.users.carol } }))?.name, "premise: committed").toBe(
          name,
        );
        expect(right, "the writer's read right after the batch rejected").toEqual({ name });
        await writer.prisma.$cache.settled();
        expect(await staleReads([writer, peer], [read]), "stale once everything settled").toBe(0);
      });
    }
  });

  describe("a write the database refused (nothing committed)", () => {
    it("a constraint violation, a missing row or a data error (raw ones too) invalidates nothing: the cached reads stay hits", async () => {
      const w = await env.world("refused");
      const { writer, peer } = await writerAndPeer();
      const reads = [userName(w), tenantUsers(w)];
      await warm([writer, peer], reads);

      const duplicate = { id: w.users.carol, tenantId: w.tenantId, email: "dup@example.test" };
      await expect(writer.prisma.user.create({ data: duplicate })).rejects.toMatchObject({ code: "P2002" });
      await expect(writer.prisma.user.update({ where: { id: -1 }, data: { name: "nobody" } })).rejects.toMatchObject({
        code: "P2025",
      });
      // A raw statement's refusals are P2010 too; the driver cause under them says they are refusals (a raw write
      // that may have committed invalidates every model, so these reads would miss).
      await expect(
        writer.prisma.$executeRawUnsafe(
          `INSERT INTO "User" (id, "tenantId", email) VALUES (${w.users.carol}, ${w.tenantId}, 'dup@example.test')`,
        ),
      ).rejects.toMatchObject({
        code: "P2010",
        meta: { driverAdapterError: { cause: { kind: "UniqueConstraintViolation" } } },
      });
      await expect(
        writer.prisma.$executeRawUnsafe(`UPDATE "User" SET name = (1 / 0)::text WHERE id = ${w.users.carol}`),
      ).rejects.toMatchObject({
        code: "P2010",
        meta: { driverAdapterError: { cause: { code: "22012", severity: "ERROR" } } },
      });

      for (const instance of [writer, peer])
        for (const read of reads)
          expect((await observe(instance, read)).fromDatabase, "still served by the cache").toBe(false);
    });

    it("a raw write cancelled by statement_timeout (57014: certain to have committed nothing) invalidates nothing", async () => {
      const w = await env.world("refused-timeout");
      const { writer, peer } = await writerAndPeer();
      const reads = [userName(w), tenantUsers(w)];
      await warm([writer, peer], reads);
      // A third instance on the same prefix, whose connections cancel any statement after 100 ms.
      const separator = DATABASE_URL.includes("?") ? "&" : "?";
      const timingOut = postgresClient(`${DATABASE_URL}${separator}options=-c%20statement_timeout%3D100`);
      proxied.push(timingOut);
      const cancelling = await env.instance({ over: timingOut, prefix: writer.prefix });

      await expect(
        cancelling.prisma.$executeRawUnsafe(
          `UPDATE "User" SET name = 'Too slow' WHERE id = ${w.users.carol} AND pg_sleep(2) IS NOT NULL`,
        ),
      ).rejects.toMatchObject({
        code: "P2010",
        meta: { driverAdapterError: { cause: { code: "57014", severity: "ERROR" } } },
      });
      expect(await userName(w)(peer.prisma, false), "premise: nothing committed").toEqual({ name: "Carol" });

      for (const instance of [writer, peer])
        for (const read of reads)
          expect((await observe(instance, read)).fromDatabase, "still served by the cache").toBe(false);
    });
  });
});
