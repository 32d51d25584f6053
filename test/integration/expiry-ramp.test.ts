/**
 * Expiry as a ramp (docs/expiry.md), against real Postgres, with and without
 * the shared Redis tier, on an injected clock (nothing sleeps for ttl):
 *
 * - every state of an entry: fresh, stale-served while one refresh runs,
 *   refreshing (deduplicated), expired, invalidated (and `staleIfInvalidated`),
 *   a failed refresh (stale kept until the hard expiry, reported, backed off);
 * - jitter and XFetch early refresh;
 * - negative caching next to `*OrThrow`, and bad per-query input.
 *
 * Database reads are counted below the cache (the instances' counters), and
 * loads are held with a gate where a test needs a window to be open.
 * Concurrent misses sharing one load (single-flight) are tested in
 * single-flight.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { FakeClock } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { faultyDatabase } from "../helpers/faulty-database.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness, observe, unusedId, type Instance, type InstanceOptions } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { postgresTarget } from "../helpers/targets.js";

const TTL = 10_000;
const SWR = 20_000;

const targets = [
  { name: "postgres, in-process tier only", redis: false },
  { name: "postgres + redis", redis: true },
] as const;

for (const { name, redis } of targets)
  describeWith(redis ? ["postgres", "redis"] : ["postgres"], `expiry ramp: ${name}`, () => {
    const env = new Harness(postgresTarget({ redis }));
    beforeAll(() => env.start());
    afterAll(() => env.stop());

    /** An instance on a fake clock with ttl 10 s, swr 20 s, no jitter, unless `options` say otherwise. */
    async function instance(options: InstanceOptions = {}): Promise<Instance & { clock: FakeClock }> {
      const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
      const made = await env.instance({
        ...options,
        clock,
        defaults: { ttl: TTL / 1000, swr: SWR / 1000, jitter: 0, ...options.defaults },
      });
      return { ...made, clock };
    }

    async function user(label: string, name: string): Promise<number> {
      const world = await env.world(label);
      return (await createScratchUser(env.bare, world, label, { name })).id;
    }

    const nameOf =
      (id: number, cache: Record<string, unknown> = {}) =>
      (p: CachedPrisma) =>
        p.user.findUnique({ where: { id }, select: { name: true }, cache: { ...cache } });

    describe("the states of an entry", () => {
      it("fresh -> stale (served at once, one refresh in the background) -> refreshed; a new ttl runs from the refresh", async () => {
        const a = await instance();
        const id = await user("ramp", "v1");
        const read = nameOf(id);
        expect(await observe(a, read)).toEqual({ value: { name: "v1" }, fromDatabase: true });
        await a.prisma.$cache.settled();
        await env.bare.user.update({ where: { id }, data: { name: "v2" } }); // behind the cache

        a.clock.advance(TTL - 1);
        expect(await observe(a, read), "fresh until the ttl").toEqual({ value: { name: "v1" }, fromDatabase: false });
        a.clock.advance(1);
        const before = a.database.queries;
        const stale = await read(a.prisma);
        expect(stale, "stale: the old value, served at once").toEqual({ name: "v1" });
        await a.prisma.$cache.settled();
        expect(a.database.queries, "one background refresh").toBe(before + 1);
        expect(a.prisma.$cache.stats()).toMatchObject({ staleHits: 1, refreshes: 1, refreshFailures: 0 });
        expect(await observe(a, read), "the refreshed entry, fresh").toEqual({
          value: { name: "v2" },
          fromDatabase: false,
        });
        a.clock.advance(TTL - 1);
        expect(await observe(a, read), "its ttl runs from the refresh").toEqual({
          value: { name: "v2" },
          fromDatabase: false,
        });
        expect(a.prisma.$cache.stats().staleHits).toBe(1);
        expect(a.log.codes()).toEqual([]);
      });

      it("past ttl + swr the entry is expired: the caller waits for a fresh load", async () => {
        const a = await instance();
        const id = await user("expired", "v1");
        const read = nameOf(id);
        await read(a.prisma);
        await a.prisma.$cache.settled();
        await env.bare.user.update({ where: { id }, data: { name: "v2" } });
        a.clock.advance(TTL + SWR);
        expect(await observe(a, read)).toEqual({ value: { name: "v2" }, fromDatabase: true });
        expect(a.prisma.$cache.stats()).toMatchObject({ staleHits: 0, refreshes: 0 });
      });

      it("many stale reads while a refresh is running start no second refresh (refresh dedupe)", async () => {
        const gate = new ReadGate();
        const a = await instance({ gate });
        const id = await user("dedupe", "v1");
        const read = nameOf(id);
        await read(a.prisma);
        await a.prisma.$cache.settled();
        await env.bare.user.update({ where: { id }, data: { name: "v2" } });
        a.clock.advance(TTL + 1);
        const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
        const before = a.database.queries;
        expect(await read(a.prisma)).toEqual({ name: "v1" });
        await held.arrived; // the refresh's database read is held open
        for (let i = 0; i < 20; i++)
          expect(await read(a.prisma), "still the stale value, at once").toEqual({ name: "v1" });
        held.release();
        await a.prisma.$cache.settled();
        expect(a.database.queries, "one refresh for 21 stale reads").toBe(before + 1);
        expect(a.prisma.$cache.stats()).toMatchObject({ staleHits: 21, refreshes: 1 });
        expect(await read(a.prisma)).toEqual({ name: "v2" });
      });

      it("an invalidated entry is not served stale, even within swr", async () => {
        const a = await instance();
        const id = await user("invalidated", "v1");
        const read = nameOf(id);
        await read(a.prisma);
        await a.prisma.$cache.settled();
        a.clock.advance(TTL + 1); // stale by age too
        await a.prisma.user.update({ where: { id }, data: { name: "v2" } });
        expect(await observe(a, read)).toEqual({ value: { name: "v2" }, fromDatabase: true });
        expect(a.prisma.$cache.stats().staleHits).toBe(0);
      });

      it("with staleIfInvalidated, an invalidated entry is served once more while a refresh replaces it", async () => {
        const a = await instance();
        const id = await user("stale-if-invalidated", "v1");
        const read = nameOf(id, { staleIfInvalidated: true });
        await read(a.prisma);
        await a.prisma.$cache.settled();
        await a.prisma.user.update({ where: { id }, data: { name: "v2" } });
        const before = a.database.queries;
        expect(await read(a.prisma), "the invalidated entry, served because the query opted in").toEqual({
          name: "v1",
        });
        await a.prisma.$cache.settled();
        expect(a.database.queries).toBe(before + 1);
        expect(await observe(a, read)).toEqual({ value: { name: "v2" }, fromDatabase: false });
        expect(a.prisma.$cache.stats()).toMatchObject({ staleHits: 1, refreshes: 1 });
      });

      it("a failed refresh keeps the stale value until the hard ttl, is reported, and is retried no sooner than a second later", async () => {
        const { client, failing, attempts } = faultyDatabase(env.connect());
        const a = await instance({ over: client });
        const id = await user("refresh-fails", "v1");
        const read = nameOf(id);
        await read(a.prisma);
        await a.prisma.$cache.settled();
        a.clock.advance(TTL + 1);
        failing.on = true;
        const before = attempts.n;
        expect(await read(a.prisma), "the stale value; the refresh fails behind it").toEqual({ name: "v1" });
        await a.prisma.$cache.settled();
        expect(attempts.n).toBe(before + 1);
        expect(a.log.codes()).toContain("E_REFRESH");
        expect(a.prisma.$cache.stats()).toMatchObject({ refreshes: 1, refreshFailures: 1 });
        for (let i = 0; i < 5; i++) expect(await read(a.prisma)).toEqual({ name: "v1" });
        await a.prisma.$cache.settled();
        expect(attempts.n, "no retry within the back-off").toBe(before + 1);
        a.clock.advance(1_000);
        expect(await read(a.prisma)).toEqual({ name: "v1" });
        await a.prisma.$cache.settled();
        expect(attempts.n, "retried after it").toBe(before + 2);
        a.clock.advance(SWR); // past the hard ttl
        await expect(Promise.resolve(read(a.prisma)), "expired: the caller gets the database's error").rejects.toThrow(
          "injected: the database is down",
        );
        failing.on = false;
        expect(await read(a.prisma), "errors were never cached").toEqual({ name: "v1" });
      });
    });

    describe("what a refresh or a shared entry must not do (review findings)", () => {
      it("a background refresh loads what was asked when it was served, even if the caller then reuses its arguments object", async () => {
        const a = await instance();
        const first = await user("refresh-args-1", "one");
        const second = await user("refresh-args-2", "two");
        const args = { where: { id: first }, select: { name: true }, cache: true } as const;
        const mutable = args as unknown as { where: { id: number } };
        expect(await a.prisma.user.findUnique(args)).toEqual({ name: "one" });
        await a.prisma.$cache.settled();
        a.clock.advance(TTL + 1);
        expect(await a.prisma.user.findUnique(args), "stale, served; a refresh starts").toEqual({ name: "one" });
        mutable.where.id = second; // the caller reuses its object at once
        await a.prisma.$cache.settled();
        expect(a.prisma.$cache.stats().refreshes).toBe(1);
        expect(
          await a.prisma.user.findUnique({ where: { id: first }, select: { name: true }, cache: true }),
          "the key of row 1 holds row 1",
        ).toEqual({ name: "one" });
      });

      it("an entry filled with a long swr is not served stale to a read of the same key without swr", async () => {
        const a = await instance({ defaults: { ttl: 10, swr: 0, jitter: 0 } });
        const id = await user("swr-owner", "v1");
        await nameOf(id, { swr: 3600 })(a.prisma);
        await a.prisma.$cache.settled();
        await env.bare.user.update({ where: { id }, data: { name: "v2" } });
        a.clock.advance(TTL + 1);
        expect(await observe(a, nameOf(id)), "past its ttl, for a reader without swr: expired").toEqual({
          value: { name: "v2" },
          fromDatabase: true,
        });
      });

      it("in a request scope, a staleIfInvalidated read's old value is never handed to a read of the same key that did not opt in", async () => {
        const a = await instance();
        const id = await user("scope-stale", "v1");
        await nameOf(id)(a.prisma);
        await a.prisma.$cache.settled();
        await a.prisma.user.update({ where: { id }, data: { name: "v2" } });
        await a.prisma.$cache.scope(async () => {
          expect(await nameOf(id, { staleIfInvalidated: true })(a.prisma), "it opted in").toEqual({ name: "v1" });
          expect(await nameOf(id)(a.prisma), "it did not").toEqual({ name: "v2" });
        });
      });
    });

    describe("jitter and early refresh", () => {
      it("jitter shortens each entry's ttl by a random fraction below it, never lengthens it", async () => {
        const a = await instance({ defaults: { ttl: 10, swr: 0, jitter: 0.5 } });
        const ids = Array.from({ length: 40 }, () => unusedId());
        const reads = ids.map(
          (id) => (p: CachedPrisma) =>
            p.user.findMany({ where: { id }, select: { id: true }, cache: { negativeTtl: 10 } }),
        );
        for (const read of reads) await read(a.prisma);
        await a.prisma.$cache.settled();
        const cached = async () => {
          let hits = 0;
          for (const read of reads) if (!(await observe(a, read)).fromDatabase) hits++;
          return hits;
        };
        a.clock.advance(5_000 - 1);
        // Each re-read below refills, so each check runs on a fresh instance clock point: check without refilling.
        expect(await cached(), "none expires before ttl * (1 - jitter)").toBe(40);
        const b = await instance({ defaults: { ttl: 10, swr: 0, jitter: 0.5 } });
        for (const read of reads) await read(b.prisma);
        await b.prisma.$cache.settled();
        b.clock.advance(7_500);
        const hitsMid = await (async () => {
          let hits = 0;
          for (const read of reads) if (!(await observe(b, read)).fromDatabase) hits++;
          return hits;
        })();
        expect(hitsMid, "some expired, some did not, halfway through the jitter range").toBeGreaterThan(0);
        expect(hitsMid).toBeLessThan(40);
        const c = await instance({ defaults: { ttl: 10, swr: 0, jitter: 0.5 } });
        for (const read of reads) await read(c.prisma);
        await c.prisma.$cache.settled();
        c.clock.advance(10_000);
        let late = 0;
        for (const read of reads) if (!(await observe(c, read)).fromDatabase) late++;
        expect(late, "none outlives its configured ttl").toBe(0);
      });

      it("earlyRefresh refreshes a hot entry before its ttl ends (served at once); without it nothing refreshes early", async () => {
        const id = await user("xfetch", "v1");
        for (const earlyRefresh of [0, 100]) {
          const a = await instance({ defaults: { ttl: 10, swr: 0, jitter: 0, earlyRefresh } });
          const read = nameOf(id);
          await read(a.prisma);
          await a.prisma.$cache.settled();
          // 20 ms before the ttl ends, a load of at least 1 ms and beta 100: each read refreshes with p > 0.8.
          a.clock.advance(TTL - 20);
          for (let i = 0; i < 30; i++) expect(await read(a.prisma)).toEqual({ name: "v1" });
          await a.prisma.$cache.settled();
          const { refreshes, staleHits } = a.prisma.$cache.stats();
          if (earlyRefresh === 0) expect(refreshes).toBe(0);
          else expect(refreshes, "refreshed early (30 draws, each p > 0.8)").toBeGreaterThanOrEqual(1);
          expect(staleHits, "never stale").toBe(0);
        }
      });
    });

    describe("negative caching", () => {
      it("null is cached for negativeTtl (a hit, not a miss); *OrThrow not-found errors are never cached", async () => {
        const a = await instance({ defaults: { ttl: 10, negativeTtl: 5, swr: 0, jitter: 0 } });
        const id = unusedId();
        expect(await observe(a, (p) => p.user.findUnique({ where: { id }, cache: true }))).toEqual({
          value: null,
          fromDatabase: true,
        });
        expect(await observe(a, (p) => p.user.findUnique({ where: { id }, cache: true }))).toEqual({
          value: null,
          fromDatabase: false,
        });
        const uncached = await env.bare.user.findUniqueOrThrow({ where: { id } }).catch((error: unknown) => error);
        for (let i = 0; i < 2; i++) {
          const before = a.database.queries;
          const error = await Promise.resolve(a.prisma.user.findUniqueOrThrow({ where: { id }, cache: true })).catch(
            (e: unknown) => e,
          );
          expect(a.database.queries, "every *OrThrow miss reaches the database").toBe(before + 1);
          expect((error as { code?: string }).code).toBe((uncached as { code?: string }).code);
          expect((error as Error).constructor).toBe((uncached as Error).constructor);
        }
        a.clock.advance(5_000);
        expect(await observe(a, (p) => p.user.findUnique({ where: { id }, cache: true }))).toEqual({
          value: null,
          fromDatabase: true,
        });
      });
    });

    describe("bad per-query input", () => {
      it("rejects a negative swr, swr with its alias, a bad jitter and a non-boolean staleIfInvalidated with E_INVALID_QUERY_OPTION", async () => {
        const a = await instance();
        const bad: Array<Record<string, unknown>> = [
          { swr: -1 },
          { swr: 1, staleWhileRevalidate: 1 },
          { jitter: 2 },
          { earlyRefresh: -1 },
          { staleIfInvalidated: "yes" },
        ];
        for (const cache of bad) {
          const error = await Promise.resolve(
            a.prisma.user.findUnique({ where: { id: 1 }, cache: cache as never }),
          ).catch((e: unknown) => e);
          expect((error as { code?: string }).code, JSON.stringify(cache)).toBe("E_INVALID_QUERY_OPTION");
        }
      });
    });
  });
