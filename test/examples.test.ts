/**
 * Smoke tests of the runnable examples (README, "Examples"): each is started
 * as `npm run demo` / `npm run example:*` starts it (tsx, from the sources,
 * no build), driven, and its output checked. The demo and the API run on the
 * embedded SQLite with no services, and again with Redis (the API on
 * Postgres too); the two-instance example needs Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as services from "./helpers/services.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { DATABASE_URL, REDIS_URL, redactUrl, skipWithoutService } = services;
// Skips below are for a developer machine without a service: skipWithoutService prints a warning naming it, and
// in CI (CI=true) it throws instead, so these examples always run there.
const missingRedis = skipWithoutService(`Redis at ${redactUrl(REDIS_URL)}`, await services.redisReachable());
const missingPostgres = skipWithoutService(
  `Postgres at ${redactUrl(DATABASE_URL)}`,
  await services.postgresReachable(),
);

/** The environment of an example run: no services unless `services` names them. */
function environment(services: { DATABASE_URL?: string; REDIS_URL?: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...services };
  for (const name of ["DATABASE_URL", "REDIS_URL"] as const) if (services[name] === undefined) delete env[name];
  return env;
}

/** Starts `examples/<file>` as the npm scripts do: tsx from the project root (tsconfig.json maps the package name). */
function start(file: string, env: NodeJS.ProcessEnv): ChildProcess & { output(): { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ["--import", "tsx", join("examples", file)], { cwd: root, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

/** Runs an example that exits by itself; resolves with its exit code and output. */
async function run(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(file, env);
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, ...child.output() };
}

/** Lines of a stack trace: a normal run prints none. */
const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

/** Runs an example that should succeed: exit 0 and no stack trace. Resolves with what it printed. */
async function runCleanly(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { code, stdout, stderr } = await run(file, env);
  expect(stderr).not.toMatch(STACK_LINE);
  expect(code, stderr).toBe(0);
  return stdout;
}

describe("npm run demo", () => {
  it("tours the cache on SQLite without services, explaining every counter and printing no stack trace", async () => {
    const stdout = await runCleanly("demo.ts", environment({}));
    expect(stdout).toContain("tiers: in-process only");
    expect(stdout).toMatch(/call 2: +[\d.]+ us {2}in-process hit/);
    expect(stdout).toContain('"Linus ACME-2 (edited)"          miss -> database');
    expect(stdout).toMatch(/^ {3}bypassed +\d+ {2}reads that skipped the cache on purpose/m);
    expect(stdout).not.toContain("8. a second instance");
  }, 180_000);

  // Skipped only on a developer machine without Redis (skipWithoutService warns; in CI it throws instead).
  it.skipIf(missingRedis)(
    "with REDIS_URL, shows the second instance and both instances' counters",
    async () => {
      const stdout = await runCleanly("demo.ts", environment({ REDIS_URL }));
      expect(stdout).toMatch(/B, same read as in 1: +[\d.]+ us, Redis hit/);
      expect(stdout).toMatch(/A updates it, B reads again: "[^"]+ \(edited on A\)" +miss -> database/);
      expect(stdout).toMatch(/^ {17,}A +B$/m);
    },
    180_000,
  );
});

/** The API example, started on a free port, and a JSON client for it. */
async function startApi(env: NodeJS.ProcessEnv) {
  const child = start("api/server.ts", { ...env, PORT: "0" });
  const url = await new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const found = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.output().stdout)?.[1];
      if (found !== undefined) {
        clearInterval(poll);
        resolve(found);
      }
    }, 50);
    child.once("exit", (code) => {
      clearInterval(poll);
      reject(new Error(`the API example exited with ${code} before listening:\n${child.output().stderr}`));
    });
  });
  const call = async (path: string, init?: { method: string; body?: unknown }) => {
    const response = await fetch(url + path, {
      method: init?.method ?? "GET",
      ...(init?.body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(init.body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & unknown[] };
  };
  const stop = async () => {
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, ...child.output() };
  };
  return { call, stop };
}

describe.each([
  ["embedded SQLite, no services", false],
  ["Postgres and Redis", true],
] as const)("npm run example:api on %s", (_name, services) => {
  // The services variant is skipped only on a developer machine without them (skipWithoutService warns; CI throws).
  it.skipIf(services && (missingRedis || missingPostgres))(
    "serves cached reads per tenant, invalidates on writes and tags, caches computations, and closes on SIGTERM",
    async () => {
      const api = await startApi(environment(services ? { DATABASE_URL, REDIS_URL } : {}));
      try {
        const acme = await api.call("/acme/posts");
        expect(acme.status).toBe(200);
        expect(acme.body.length).toBeGreaterThan(0);
        expect((await api.call("/acme/posts")).body).toEqual(acme.body);
        const globex = await api.call("/globex/posts");
        expect(globex.body).not.toEqual(acme.body);
        expect((await api.call("/cache/stats")).body).toMatchObject({ l1Hits: 1, misses: 2 });

        const home = await api.call("/acme/home");
        expect(home.body).toMatchObject({ sameAnswer: true });
        expect((await api.call("/cache/stats")).body).toMatchObject({ scopeHits: 1 });

        const summary = await api.call("/acme/summary");
        expect((await api.call("/acme/summary")).body).toEqual(summary.body);

        const [user] = (await api.call("/acme/users")).body as Array<{ id: number }>;
        const id = user?.id;
        const before = await api.call(`/acme/users/${id}`);
        const renamed = `${String(before.body.name)}!`;
        expect((await api.call(`/acme/users/${id}`, { method: "PATCH", body: { name: renamed } })).body).toEqual({
          updated: 1,
        });
        expect((await api.call(`/acme/users/${id}`)).body.name).toBe(renamed);
        expect((await api.call("/acme/summary")).body.computedAt).not.toBe(summary.body.computedAt);

        const invalidations = Number((await api.call("/cache/stats")).body.invalidations);
        expect((await api.call("/acme/front-page/refresh", { method: "POST" })).status).toBe(200);
        expect(Number((await api.call("/cache/stats")).body.invalidations)).toBe(invalidations + 1);
        expect((await api.call("/nowhere/posts")).status).toBe(404);
      } finally {
        const { code, stdout, stderr } = await api.stop();
        expect(stderr).not.toMatch(STACK_LINE);
        expect(code, stderr).toBe(0);
        expect(stdout).toContain("closed");
      }
    },
    120_000,
  );
});

describe("npm run example:two-instances", () => {
  // Skipped only on a developer machine without Redis (skipWithoutService warns; in CI it throws instead).
  it.skipIf(missingRedis)(
    "shows B reading A's entry, A's write reaching B, and one computation shared by both",
    async () => {
      const stdout = await runCleanly("two-instances/main.ts", environment({ REDIS_URL }));
      expect(stdout).toMatch(/B reads it: +"[^"]+" +Redis hit/);
      expect(stdout).toMatch(/B reads it again: +"[^"]+" +in-process hit/);
      expect(stdout).toMatch(/B reads it: +"[^"]+ \(renamed on A\)" +miss -> database/);
      expect(stdout).toMatch(/B asks: +[\d.]+ +Redis hit, fn ran 0 times on B/);
      expect(stdout).toMatch(/B asks: +[\d.]+ +miss -> fn, fn ran 1 time on B/);
    },
    120_000,
  );

  it("without Redis, says so and how to fix it instead of failing with a stack trace", async () => {
    const { code, stdout, stderr } = await run(
      "two-instances/main.ts",
      environment({ REDIS_URL: "redis://127.0.0.1:1" }),
    );
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("This example needs Redis, and none answered at redis://127.0.0.1:1");
    expect(stderr).toContain("set REDIS_URL");
    expect(stderr).not.toMatch(STACK_LINE);
  }, 60_000);
});
