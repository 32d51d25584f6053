/**
 * The request scope through a real Prisma client over Postgres, with the
 * in-process tier only and with Redis (docs/expiry.md, "Request scope").
 * Inside `prisma.$cache.scope(fn)` or `middleware()`, identical reads cause
 * one database query, whether they opted into caching or not; scopes never
 * share entries; and no entry outlives an invalidation of what it read,
 * whichever instance made the write (consistency contract, items 1, 6, 7).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness, observe, unusedId, type Instance } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";

/** How many queries reached `instance`'s database while `fn` ran. */
async function queriesDuring(instance: Instance, fn: () => Promise<unknown>): Promise<number> {
  const before = instance.database.queries;
  await fn();
  return instance.database.queries - before;
}

/** A one-shot signal, to interleave concurrent scopes without timing. */
function signal(): { fire(): void; fired: Promise<void> } {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

/** What a scope does on one instance, the same with or without Redis. */
function describeScope(env: Harness): void {
  it("identical reads without `cache` (or with `cache: false`) cause one database query, concurrent and sequential", async () => {
    const w = await env.world("scope-plain");
    const i = await env.instance();
    const user = () => i.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true } });
    const list = () =>
      i.prisma.post.findMany({
        where: { tenantId: w.tenantId },
        select: { slug: true },
        orderBy: { id: "asc" },
        cache: false,
      });
    const before = i.prisma.$cache.stats();
    const queries = await queriesDuring(i, () =>
      i.prisma.$cache.scope(async () => {
        expect(await Promise.all([user(), user()])).toEqual([{ name: "Carol" }, { name: "Carol" }]);
        expect(await user()).toEqual({ name: "Carol" });
        const [a, b] = await Promise.all([list(), list()]);
        expect(b).toEqual(a);
        expect(await list()).toEqual(a);
      }),
    );
    expect(queries).toBe(2);
    expect(i.prisma.$cache.stats()).toMatchObject({
      scopeHits: before.scopeHits + 4,
      l1Hits: before.l1Hits,
      l2Hits: before.l2Hits,
      misses: before.misses,
    });
    expect(i.log.codes()).toEqual([]);
  });

  it("opted-in reads: the first goes through the tiers, identical ones are answered by the scope", async () => {
    const w = await env.world("scope-cached");
    const i = await env.instance();
    const read = () =>
      i.prisma.post.findUnique({ where: { id: w.posts.welcome }, select: { title: true }, cache: true });
    const before = i.prisma.$cache.stats();
    const queries = await queriesDuring(i, () =>
      i.prisma.$cache.scope(async () => {
        expect(await Promise.all([read(), read()])).toEqual([{ title: "Welcome" }, { title: "Welcome" }]);
        expect(await read()).toEqual({ title: "Welcome" });
      }),
    );
    expect(queries).toBe(1);
    expect(i.prisma.$cache.stats()).toMatchObject({
      misses: before.misses + 1,
      l1Hits: before.l1Hits,
      scopeHits: before.scopeHits + 2,
    });
  });

  it("a read without `cache` is never answered by a tier, in a scope either; an opted-in read may reuse its result", async () => {
    const w = await env.world("scope-direct");
    const i = await env.instance();
    const cached = () => i.prisma.user.findUnique({ where: { id: w.users.bob }, select: { email: true }, cache: true });
    const plain = () => i.prisma.user.findUnique({ where: { id: w.users.bob }, select: { email: true } });
    await cached();
    await i.prisma.$cache.scope(async () => {
      expect(await observe(i, cached), "an in-process hit").toEqual({
        value: { email: "bob@example.test" },
        fromDatabase: false,
      });
      expect(await observe(i, plain), "not from the tier, even through the scope").toEqual({
        value: { email: "bob@example.test" },
        fromDatabase: true,
      });
      expect(await observe(i, plain)).toEqual({ value: { email: "bob@example.test" }, fromDatabase: false });
      const hits = i.prisma.$cache.stats().l1Hits;
      expect(await observe(i, cached)).toEqual({ value: { email: "bob@example.test" }, fromDatabase: false });
      expect(i.prisma.$cache.stats().l1Hits, "answered by the scope").toBe(hits);
    });
  });

  it("different arguments and different contexts are different entries", async () => {
    const w = await env.world("scope-keys");
    const tenant = new AsyncLocalStorage<number>();
    const i = await env.instance({ context: () => ({ tenant: tenant.getStore() ?? null }) });
    const byName = () => i.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true } });
    const byEmail = () => i.prisma.user.findUnique({ where: { id: w.users.carol }, select: { email: true } });
    const queries = await queriesDuring(i, () =>
      i.prisma.$cache.scope(async () => {
        await byName();
        await byEmail();
        // Awaited inside the context's own scope: context is read when a query is awaited.
        await tenant.run(1, async () => await byName());
        await tenant.run(2, async () => await byName());
        await tenant.run(1, async () => await byName());
        await byEmail();
      }),
    );
    expect(queries).toBe(4);
  });

  it("two concurrent scopes never see each other's reads", async () => {
    const w = await env.world("scope-isolated");
    const i = await env.instance();
    const read = () => i.prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true } });
    const [aRead, bRead] = [signal(), signal()];
    const before = i.prisma.$cache.stats().scopeHits;
    const queries = await queriesDuring(i, () =>
      Promise.all([
        i.prisma.$cache.scope(async () => {
          await read();
          aRead.fire();
          await bRead.fired;
          expect(await read()).toEqual({ name: "Alice" });
        }),
        i.prisma.$cache.scope(async () => {
          await aRead.fired;
          await read();
          bRead.fire();
          expect(await read()).toEqual({ name: "Alice" });
        }),
      ]),
    );
    expect(queries, "one per scope").toBe(2);
    expect(i.prisma.$cache.stats().scopeHits).toBe(before + 2);
  });

  it("outside a scope nothing is deduplicated, including a read called in a scope and awaited after it ended", async () => {
    const w = await env.world("scope-outside");
    const i = await env.instance();
    const read = () => i.prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true } });
    const before = i.prisma.$cache.stats().scopeHits;
    expect(await queriesDuring(i, () => Promise.all([read(), read()]))).toBe(2);
    const { late } = await i.prisma.$cache.scope(async () => {
      await read();
      return { late: read() };
    });
    expect(await observe(i, () => late)).toEqual({ value: { name: "Alice" }, fromDatabase: true });
    expect(i.prisma.$cache.stats().scopeHits).toBe(before);
  });

  it("results are private copies: mutating one never changes what the next caller gets (contract item 7)", async () => {
    const w = await env.world("scope-copies");
    const i = await env.instance();
    const read = () =>
      i.prisma.user.findUnique({
        where: { id: w.users.alice },
        select: {
          name: true,
          createdAt: true,
          settings: true,
          posts: { select: { slug: true }, orderBy: { id: "asc" } },
        },
      });
    const expected = await read();
    await i.prisma.$cache.scope(async () => {
      const [first, joined] = await Promise.all([read(), read()]);
      first!.name = "Mutated";
      first!.posts.push({ slug: "injected" });
      (first!.settings as { theme: string }).theme = "light";
      first!.createdAt.setTime(0);
      expect(joined).toEqual(expected);
      const later = await read();
      expect(later).toEqual(expected);
      later!.posts.length = 0;
      expect(await read()).toEqual(expected);
    });
  });

  it("an error is never kept: a missing row's findUniqueOrThrow fails again from the database (contract item 6)", async () => {
    const i = await env.instance();
    const missing = unusedId();
    const read = () => i.prisma.user.findUniqueOrThrow({ where: { id: missing } });
    const queries = await queriesDuring(i, () =>
      i.prisma.$cache.scope(async () => {
        const settled = await Promise.allSettled([read(), read()]);
        expect(
          settled.map((outcome) => outcome.status),
          "both callers of the shared load get its error",
        ).toEqual(["rejected", "rejected"]);
        await expect(read()).rejects.toMatchObject({ code: "P2025" });
      }),
    );
    expect(queries).toBe(2);
  });

  it("a write in the scope kills the entries it touches, and not the others", async () => {
    const w = await env.world("scope-write");
    const i = await env.instance();
    const scratch = await createScratchUser(env.bare, w, "scope-write", { name: "Before" });
    const user = () => i.prisma.user.findUnique({ where: { id: scratch.id }, select: { name: true } });
    const post = () =>
      i.prisma.post.findUnique({ where: { id: w.posts.welcome }, select: { title: true }, cache: true });
    // Read once outside: the mirror then knows the post's tag versions, so other invalidations cannot kill its scope
    // entry.
    await post();
    await i.prisma.$cache.scope(async () => {
      await user();
      await post();
      await i.prisma.user.update({ where: { id: scratch.id }, data: { name: "After" } });
      expect(await observe(i, user)).toEqual({ value: { name: "After" }, fromDatabase: true });
      const before = i.prisma.$cache.stats();
      expect(await observe(i, post)).toEqual({ value: { title: "Welcome" }, fromDatabase: false });
      expect(i.prisma.$cache.stats()).toMatchObject({ scopeHits: before.scopeHits + 1, l1Hits: before.l1Hits });
    });
  });

  it("a write made outside the scope (another request) kills, once resolved, the scope's entries it touches", async () => {
    const w = await env.world("scope-other-request");
    const i = await env.instance();
    const scratch = await createScratchUser(env.bare, w, "scope-other-request", { name: "Before" });
    const read = () => i.prisma.user.findMany({ where: { id: scratch.id }, select: { name: true } });
    const [hasRead, hasWritten] = [signal(), signal()];
    await Promise.all([
      i.prisma.$cache.scope(async () => {
        expect(await observe(i, read)).toEqual({ value: [{ name: "Before" }], fromDatabase: true });
        hasRead.fire();
        await hasWritten.fired;
        expect(await observe(i, read)).toEqual({ value: [{ name: "After" }], fromDatabase: true });
      }),
      i.prisma.$cache.scope(async () => {
        await hasRead.fired;
        await i.prisma.user.update({ where: { id: scratch.id }, data: { name: "After" } });
        hasWritten.fire();
      }),
    ]);
  });

  it("a write inside a transaction in the scope drops what it touches at once, and its commit kills what was read meanwhile", async () => {
    const w = await env.world("scope-write-transaction");
    const i = await env.instance();
    const scratch = await createScratchUser(env.bare, w, "scope-write-transaction", { name: "Before" });
    const read = () => i.prisma.user.findUnique({ where: { id: scratch.id }, select: { name: true } });
    await i.prisma.$cache.scope(async () => {
      await read();
      await i.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: scratch.id }, data: { name: "After" } });
        // Outside the transaction, which has not committed: the database still says "Before".
        expect(await observe(i, read)).toEqual({ value: { name: "Before" }, fromDatabase: true });
      });
      expect(await observe(i, read)).toEqual({ value: { name: "After" }, fromDatabase: true });
    });
  });

  it("reads inside $transaction in a scope bypass it, and a scoped read still runs inside $transaction([...])", async () => {
    const w = await env.world("scope-transaction");
    const i = await env.instance();
    const read = () => i.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true } });
    const cached = () =>
      i.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    const before = i.prisma.$cache.stats().scopeHits;
    await i.prisma.$cache.scope(async () => {
      expect(await queriesDuring(i, read)).toBe(1);
      const interactive = await queriesDuring(i, () =>
        i.prisma.$transaction(async (tx) => {
          expect(await tx.user.findUnique({ where: { id: w.users.carol }, select: { name: true } })).toEqual({
            name: "Carol",
          });
          expect(await tx.user.findUnique({ where: { id: w.users.carol }, select: { name: true } })).toEqual({
            name: "Carol",
          });
        }),
      );
      expect(interactive).toBe(2);
      let batch: unknown;
      expect(
        await queriesDuring(i, async () => (batch = await i.prisma.$transaction([read(), cached(), read()]))),
      ).toBe(3);
      expect(batch).toEqual([{ name: "Carol" }, { name: "Carol" }, { name: "Carol" }]);
      expect(await queriesDuring(i, read), "the scope still answers outside the transactions").toBe(0);
    });
    expect(i.prisma.$cache.stats().scopeHits).toBe(before + 1);
  });

  it("a model configured `false` is read live in a scope too", async () => {
    const w = await env.world("scope-disabled");
    const i = await env.instance({ models: { Comment: false } });
    const read = () =>
      i.prisma.comment.findMany({ where: { postId: w.posts.welcome }, select: { body: true }, orderBy: { id: "asc" } });
    expect(await queriesDuring(i, () => i.prisma.$cache.scope(async () => Promise.all([read(), read()])))).toBe(2);
  });

  it("middleware() gives each request of a node:http server its own scope", async () => {
    const w = await env.world("scope-http");
    const i = await env.instance();
    const read = () => i.prisma.user.findUnique({ where: { id: w.users.bob }, select: { email: true } });
    const middleware = i.prisma.$cache.middleware();
    const bothRead = signal();
    let arrived = 0;
    const server = createServer((request, response) =>
      middleware(request, response, async () => {
        try {
          await read();
          if (++arrived === 2) bothRead.fire();
          // Each request reads again once the other has read too: a shared scope would serve it.
          await bothRead.fired;
          response.end(JSON.stringify(await read()));
        } catch (error) {
          response.statusCode = 500;
          response.end(String(error));
        }
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      let bodies: unknown[] = [];
      const queries = await queriesDuring(
        i,
        async () => (bodies = await Promise.all([fetch(url).then((r) => r.json()), fetch(url).then((r) => r.json())])),
      );
      expect(bodies).toEqual([{ email: "bob@example.test" }, { email: "bob@example.test" }]);
      expect(queries, "one per request: each request deduplicates within itself, never across").toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
}

describeWith(["postgres"], "request scope: postgres, in-process tier only", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeScope(env);
});

describeWith(["postgres", "redis"], "request scope: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeScope(env);

  it("a write through another instance, once resolved, kills this instance's scope entries it touches (contract item 1)", async () => {
    const w = await env.world("scope-instances");
    const prefix = env.newPrefix();
    const a = await env.instance({ over: env.connect(), prefix });
    const b = await env.instance({ over: env.connect(), prefix });
    const scratch = await createScratchUser(env.bare, w, "scope-instances", { name: "Before" });
    const plain = () => b.prisma.user.findUnique({ where: { id: scratch.id }, select: { name: true } });
    const cached = () => b.prisma.user.findMany({ where: { id: scratch.id }, select: { name: true }, cache: true });
    const unrelated = () =>
      b.prisma.post.findUnique({ where: { id: w.posts.welcome }, select: { title: true }, cache: true });
    // Cached in B's in-process tier first: their scope entries start with known tag versions.
    await cached();
    await unrelated();
    await b.prisma.$cache.scope(async () => {
      expect(await observe(b, plain)).toEqual({ value: { name: "Before" }, fromDatabase: true });
      expect(await observe(b, plain)).toEqual({ value: { name: "Before" }, fromDatabase: false });
      expect(await observe(b, cached)).toEqual({ value: [{ name: "Before" }], fromDatabase: false });
      expect(await observe(b, unrelated)).toEqual({ value: { title: "Welcome" }, fromDatabase: false });

      await a.prisma.user.update({ where: { id: scratch.id }, data: { name: "After" } });

      expect(await observe(b, plain), "an entry without known versions: any invalidation heard kills it").toEqual({
        value: { name: "After" },
        fromDatabase: true,
      });
      expect(await observe(b, cached), "an entry with known versions: killed by its own tags' invalidation").toEqual({
        value: [{ name: "After" }],
        fromDatabase: true,
      });
      const hits = b.prisma.$cache.stats().scopeHits;
      expect(await observe(b, unrelated), "other tags' invalidation leaves it alive").toEqual({
        value: { title: "Welcome" },
        fromDatabase: false,
      });
      expect(b.prisma.$cache.stats().scopeHits).toBe(hits + 1);
    });
    expect(a.log.codes()).toEqual([]);
    expect(b.log.codes()).toEqual([]);
  });

  it("invalidateQuery through another instance kills that query's scope entry", async () => {
    const w = await env.world("scope-invalidate-query");
    const prefix = env.newPrefix();
    const a = await env.instance({ over: env.connect(), prefix });
    const b = await env.instance({ over: env.connect(), prefix });
    const args = { where: { id: w.posts.draft }, select: { title: true } };
    const read = () => b.prisma.post.findUnique({ ...args, cache: true });
    await read();
    await b.prisma.$cache.scope(async () => {
      expect(await observe(b, read)).toEqual({ value: { title: "Draft" }, fromDatabase: false });
      await a.prisma.$cache.invalidateQuery("Post", "findUnique", args);
      expect(await observe(b, read)).toEqual({ value: { title: "Draft" }, fromDatabase: true });
    });
  });
});
