/**
 * Single-flight without captured versions (flights.ts `joinBegunSince`). A
 * read R2 that begins after a write W resolved, and whose Redis lookup fails,
 * may join only a load begun after it. A flight registered after R2 began is
 * not necessarily a database read started after W: with the cross-process
 * lock on, a flight registered late by a read R1 that captured its versions
 * before W serves, on its first lock take, the entry another process stored
 * under those pre-write versions. R2 must not receive it (found by review).
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { postgresTarget } from "../helpers/targets.js";

interface Faults {
  /** MGET/GET replies are handed back this much later (the command ran at once). */
  lookupReplyDelayMs: number;
  /** When > 0, MGET/GET reject after this many ms (a failed lookup). */
  lookupFailAfterMs: number;
  /** EVAL/EVALSHA replies are handed back this much later. */
  scriptReplyDelayMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function faulty(redis: Redis, faults: Faults): Redis {
  const wrap = (name: "get" | "mget" | "evalsha" | "eval", kind: "lookup" | "script") => {
    const original = (redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!.bind(redis);
    (redis as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (kind === "lookup" && faults.lookupFailAfterMs > 0) {
        const after = faults.lookupFailAfterMs;
        return sleep(after).then(() => {
          throw new Error("injected lookup failure");
        });
      }
      const delay = kind === "lookup" ? faults.lookupReplyDelayMs : faults.scriptReplyDelayMs;
      return original(...args).then(async (reply) => {
        if (delay > 0) await sleep(delay);
        return reply;
      });
    };
  };
  wrap("get", "lookup");
  wrap("mget", "lookup");
  wrap("evalsha", "script");
  wrap("eval", "script");
  return redis;
}

describeWith(
  ["postgres", "redis"],
  "single-flight without captured versions never serves a load begun before the read",
  () => {
    const env = new Harness(postgresTarget({ redis: true }));
    beforeAll(() => env.start());
    afterAll(() => env.stop());

    const read = (id: number) => (p: CachedPrisma) =>
      p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

    for (const lock of [{ wait: "10s" }, false] as const)
      it(`${lock === false ? "lock off" : "lock on"}: a read that begins after a write resolved, whose lookup fails, does not receive a pre-write entry through a flight registered after it began`, async () => {
        const world = await env.world("rv-sf-lock");
        const id = (await createScratchUser(env.bare, world, "rv-sf-lock", { name: "v1" })).id;
        const prefix = env.newPrefix();
        const gate = new ReadGate();
        const options = { prefix, lock, redisTimeout: "10s" } as const;
        const holder = await env.instance({ ...options, over: env.connect(), gate });
        const faults: Faults = { lookupReplyDelayMs: 0, lookupFailAfterMs: 0, scriptReplyDelayMs: 0 };
        const reader = await env.instance({
          ...options,
          over: env.connect(),
          redis: faulty(await env.connectRedis(), faults),
        });

        // The holder takes the lock and reads v1 from the database; its answer is held below the cache.
        const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
        const holderRead = read(id)(holder.prisma).then((value) => value);
        await held.arrived;

        // R1 on the reader: its lookup runs now (pre-write versions, no entry), its reply is handled 1.5 s later.
        faults.lookupReplyDelayMs = 1_500;
        const r1 = read(id)(reader.prisma).then((value) => value);
        await sleep(50);
        faults.lookupReplyDelayMs = 0;

        // The write resolves (bumps the versions, acknowledged by the reader's bus).
        await holder.prisma.user.update({ where: { id }, data: { name: "v2" } });
        // The holder's pre-write read lands: its entry is stored under the pre-write versions, the lock released.
        held.release();
        expect(await holderRead).toEqual({ name: "v1" });
        await holder.prisma.$cache.settled();

        // R2 begins after the write resolved. Its lookup fails 2 s later, while R1's flight (registered at ~1.5 s,
        // taking the lock with a slow reply) is in progress.
        faults.lookupFailAfterMs = 2_000;
        faults.scriptReplyDelayMs = 1_000;
        const r2 = read(id)(reader.prisma).then((value) => value);

        const first = await r1; // R1 began before the write: v1 (lock on, the holder's entry) or v2 (lock off, its own load)
        if (lock !== false) expect(first).toEqual({ name: "v1" });
        await r2.catch(() => undefined);
        // R2's lookup failed, so it captured nothing: it must not join R1's flight, which carries versions (and, with
        // the lock, serves the holder's pre-write entry).
        expect(reader.prisma.$cache.stats().coalesced).toBe(0);
        expect(await r2, "R2 began after the write resolved").toEqual({ name: "v2" });
        faults.lookupFailAfterMs = 0;
        faults.scriptReplyDelayMs = 0;
      });
  },
);
