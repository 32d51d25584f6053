/**
 * Review of bb98cfe (ambiguous writes invalidate): the connection of a write
 * dies after the server committed it, but the error the caller gets is not
 * the plain "Connection terminated unexpectedly" of ambiguous-writes.test.ts.
 * Prisma 7 maps what the pg adapter raises to codes (client-engine-runtime):
 *
 * - a TCP reset (ECONNRESET) is the adapter's `ConnectionClosed`: P1017 for a
 *   model write, but `Raw query failed` P2010 for `$executeRaw*`, which maps
 *   EVERY driver error of a raw statement to P2010;
 * - a FATAL ErrorResponse (Postgres shutting down: 57P01; PgBouncer losing its
 *   server connection: 08P01 "server conn crashed?") is the adapter's
 *   `postgres` kind: P2039 "Database error" for a model write, P2010 for raw.
 *
 * writeMayHaveCommitted treats every P2 code but P2028 as the database's
 * refusal, so these writes invalidate nothing although they committed: the
 * pre-write row is served on every instance until its ttl (contract item 1).
 *
 * Same harness as ambiguous-writes.test.ts: the writer goes through the
 * cutting proxy, a peer reads directly; each case checks its premise (the
 * database holds the new row) and counts reads returning pre-write data.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresClient, type BareClient, type CachedPrisma } from "../helpers/clients.js";
import { startCuttingProxy, type CutMode, type CuttingProxy } from "../helpers/cutting-proxy.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe, type Instance } from "../helpers/harness.js";
import { DATABASE_URL } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";
import type { Fixture } from "../helpers/fixture.js";

const ADMIN_SHUTDOWN: CutMode = {
  fatal: { code: "57P01", message: "terminating connection due to administrator command" },
};
const PGBOUNCER_SERVER_CRASHED: CutMode = { fatal: { code: "08P01", message: "server conn crashed?" } };

describeWith(["postgres", "redis"], "review: ambiguous writes whose error carries a P2 code", () => {
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

  async function writerAndPeer(): Promise<{ writer: Instance; peer: Instance }> {
    const over = postgresClient(proxy.url);
    proxied.push(over);
    const writer = await env.instance({ over });
    const peer = await env.instance({ over: env.connect(), prefix: writer.prefix });
    return { writer, peer };
  }

  type CaseRead = (prisma: CachedPrisma, cache?: boolean) => PromiseLike<unknown>;
  const userName =
    (w: Fixture): CaseRead =>
    (p, cache = true) =>
      p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache });

  async function warm(instances: readonly Instance[], read: CaseRead): Promise<void> {
    for (const instance of instances) {
      await read(instance.prisma);
      await instance.prisma.$cache.settled();
      expect((await observe(instance, read)).fromDatabase, "warmed: answered by the cache").toBe(false);
    }
  }

  async function staleReads(instances: readonly Instance[], read: CaseRead): Promise<number> {
    const truth = JSON.stringify(await read((instances.at(-1) as Instance).prisma, false));
    let stale = 0;
    for (const instance of instances) if (JSON.stringify(await read(instance.prisma)) !== truth) stale++;
    return stale;
  }

  interface Case {
    name: string;
    cutAfter: RegExp;
    how: CutMode;
    write(p: CachedPrisma, w: Fixture, name: string): Promise<unknown>;
  }
  const update = (p: CachedPrisma, w: Fixture, name: string) =>
    p.user.update({ where: { id: w.users.carol }, data: { name } });
  const raw = (p: CachedPrisma, w: Fixture, name: string) =>
    p.$executeRawUnsafe(`UPDATE "User" SET name = '${name}' WHERE id = ${w.users.carol}`);

  const cases: Case[] = [
    { name: "a raw write reset (ECONNRESET -> P2010)", cutAfter: /UPDATE "User"/, how: "reset", write: raw },
    {
      name: "a raw write, Postgres shutting down (57P01 -> P2010)",
      cutAfter: /UPDATE "User"/,
      how: ADMIN_SHUTDOWN,
      write: raw,
    },
    {
      name: "a plain update, Postgres shutting down (57P01 -> P2039)",
      cutAfter: /UPDATE "public"."User"/,
      how: ADMIN_SHUTDOWN,
      write: update,
    },
    {
      name: "a plain update through PgBouncer, server connection lost (08P01 -> P2039)",
      cutAfter: /UPDATE "public"."User"/,
      how: PGBOUNCER_SERVER_CRASHED,
      write: update,
    },
    {
      name: "updateMany through PgBouncer, server connection lost (08P01 -> P2039)",
      cutAfter: /UPDATE "public"."User"/,
      how: PGBOUNCER_SERVER_CRASHED,
      write: (p, w, name) => p.user.updateMany({ where: { id: w.users.carol }, data: { name } }),
    },
    // Controls: the same cuts, where the classification is right today.
    {
      name: "control: a plain update reset (ECONNRESET -> P1017)",
      cutAfter: /UPDATE "public"."User"/,
      how: "reset",
      write: update,
    },
    {
      name: "control: a batch cut after COMMIT by 57P01 (the commit is not mapped to a P2 code)",
      cutAfter: /COMMIT/,
      how: ADMIN_SHUTDOWN,
      write: (p, w, name) =>
        p.$transaction([
          p.user.update({ where: { id: w.users.carol }, data: { name } }),
          p.tenant.update({ where: { id: w.tenantId }, data: { name: `${name} ${w.suffix}` } }),
        ]),
    },
  ];

  describe("the server committed, then the connection died", () => {
    for (const kind of cases) {
      it(`${kind.name}: no instance serves the pre-write row afterwards`, async () => {
        const w = await env.world("ambiguous-kinds");
        const { writer, peer } = await writerAndPeer();
        const read = userName(w);
        await warm([writer, peer], read);

        const name = `Cut ${w.suffix}`;
        const cut = proxy.cutAfter(kind.cutAfter, kind.how);
        const error = (await kind.write(writer.prisma, w, name).then(
          () => undefined,
          (e: unknown) => e,
        )) as { name?: string; code?: string; message?: string } | undefined;
        expect(error, "the write rejected").toBeDefined();
        await cut;
        const committed = (await env.bare.user.findUnique({ where: { id: w.users.carol } }))?.name === name;
        expect(committed, "premise: the server committed the write").toBe(true);

        expect(
          await staleReads([writer, peer], read),
          `reads returning pre-write data after ${error?.name} ${error?.code ?? ""}: ${error?.message?.split("\n").at(-1)}`,
        ).toBe(0);
      });
    }
  });

  describe("when the error reaches the caller", () => {
    it("a batch $transaction([read, update]) cut after COMMIT: when it rejects, the update's invalidation is done (the writer's next read is fresh)", async () => {
      const w = await env.world("ambiguous-batch-order");
      const { writer, peer } = await writerAndPeer();
      const read = userName(w);
      await warm([writer, peer], read);

      const name = `Cut batch ${w.suffix}`;
      const cut = proxy.cutAfter(/COMMIT/);
      // A read element rejects at once with the batch's error; Prisma's batch rejects on the first element that
      // does, without waiting for the update element, which is still invalidating in whenWriteFails.
      const failed = await writer.prisma
        .$transaction([
          writer.prisma.tenant.findUnique({ where: { id: w.tenantId } }),
          writer.prisma.user.update({ where: { id: w.users.carol }, data: { name } }),
        ])
        .then(
          () => false,
          () => true,
        );
      const right = await read(writer.prisma); // immediately after the rejection, as a caller retrying would
      expect(failed, "the batch rejected").toBe(true);
      await cut;
      expect((await env.bare.user.findUnique({ where: { id: w.users.carol } }))?.name, "premise: committed").toBe(name);
      expect(right, "the writer's read right after the batch rejected").toEqual({ name });
      await writer.prisma.$cache.settled();
      expect(await staleReads([writer, peer], read), "stale once everything settled").toBe(0);
    });
  });
});
