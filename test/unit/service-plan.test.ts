/**
 * Which Postgres and Redis a test run uses (scripts/lib/services.mjs), and
 * what it says when one is unreachable. The choice is a pure function of the
 * environment and of whether a container runtime answered, so both paths are
 * tested here, on a machine with or without a runtime.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_DATABASE_NAME, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../../scripts/lib/database.mjs";
import {
  describePlan,
  needsRuntimeProbe,
  planServices,
  ServiceUnreachableError,
  unreachableMessage,
} from "../../scripts/lib/services.mjs";

const GIVEN = { DATABASE_URL: "postgresql://me:secret@db.example:5432/mine", REDIS_URL: "redis://cache.example:6380" };

describe("the service plan", () => {
  it("uses the URLs the environment gives, whether or not a container runtime answers", () => {
    for (const runtimeReachable of [false, true]) {
      expect(planServices({ env: GIVEN, runtimeReachable })).toEqual({
        postgres: { source: "env", url: GIVEN.DATABASE_URL },
        redis: { source: "env", url: GIVEN.REDIS_URL },
      });
    }
    expect(needsRuntimeProbe(GIVEN), "nothing to probe for").toBe(false);
  });

  it("starts containers for the services without a URL when a runtime answers", () => {
    expect(planServices({ env: {}, runtimeReachable: true })).toEqual({
      postgres: { source: "container" },
      redis: { source: "container" },
    });
    expect(planServices({ env: { REDIS_URL: GIVEN.REDIS_URL }, runtimeReachable: true })).toEqual({
      postgres: { source: "container" },
      redis: { source: "env", url: GIVEN.REDIS_URL },
    });
    expect(needsRuntimeProbe({ REDIS_URL: GIVEN.REDIS_URL })).toBe(true);
  });

  it("falls back to the local services at their default URLs without a runtime", () => {
    expect(planServices({ env: {}, runtimeReachable: false })).toEqual({
      postgres: { source: "local", url: DEFAULT_DATABASE_URL },
      redis: { source: "local", url: DEFAULT_REDIS_URL },
    });
  });

  it("PQC_CONTAINERS=off keeps the local services even where a runtime answers, and skips the probe", () => {
    const env = { PQC_CONTAINERS: "off" };
    expect(planServices({ env, runtimeReachable: true })).toEqual({
      postgres: { source: "local", url: DEFAULT_DATABASE_URL },
      redis: { source: "local", url: DEFAULT_REDIS_URL },
    });
    expect(needsRuntimeProbe(env)).toBe(false);
  });

  it("is said in one line, naming each service's source, without passwords", () => {
    const given = describePlan(planServices({ env: GIVEN, runtimeReachable: false }));
    expect(given).toBe(
      "tests use Postgres from DATABASE_URL (postgresql://me:***@db.example:5432/mine); Redis from REDIS_URL (redis://cache.example:6380)",
    );
    const containers = describePlan(planServices({ env: {}, runtimeReachable: true }), {
      postgres: "postgresql://test:pw@localhost:32768/test",
      redis: "redis://localhost:32769",
    });
    expect(containers).toBe(
      "tests use Postgres in a container (testcontainers) at postgresql://test:***@localhost:32768/test; Redis in a container (testcontainers) at redis://localhost:32769",
    );
    expect(describePlan(planServices({ env: {}, runtimeReachable: false }))).toMatch(
      /^tests use local Postgres at .*; local Redis at redis:\/\/127\.0\.0\.1:6379 \(no REDIS_URL set/,
    );
  });
});

describe("the default test database", () => {
  it("is named after this checkout, so two checkouts' runs never share (and reset) one database", () => {
    expect(DEFAULT_DATABASE_NAME).toMatch(/^pqc_test_[0-9a-f]{8}$/);
    expect(DEFAULT_DATABASE_URL).toBe(`postgresql://postgres@127.0.0.1:5432/${DEFAULT_DATABASE_NAME}`);
  });
});

describe("an unreachable service", () => {
  it("is reported with the service, the URL tried, the cause and the fix", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const error = new ServiceUnreachableError("postgres", "postgresql://me:secret@127.0.0.1:1/x", cause);
    expect(error.message).toBe(unreachableMessage("postgres", "postgresql://me:secret@127.0.0.1:1/x", cause));
    expect(error.message).toContain("Postgres is not reachable at postgresql://me:***@127.0.0.1:1/x");
    expect(error.message).toContain("connect ECONNREFUSED 127.0.0.1:1");
    expect(error.message).toContain("pg_ctlcluster");
    expect(error.message).toContain("set DATABASE_URL");
    expect(error.message).not.toContain("secret");
    expect(unreachableMessage("redis", "redis://127.0.0.1:1")).toMatch(
      /^Redis is not reachable at redis:\/\/127\.0\.0\.1:1\.\n.*redis-server/s,
    );
  });

  it("stops db-setup (npm test's first step) before it generates anything: the message, no stack, status 1", () => {
    const script = fileURLToPath(new URL("../../scripts/db-setup.mjs", import.meta.url));
    const closedPort = "postgresql://postgres@127.0.0.1:1/pqc_unreachable";
    const run = spawnSync(process.execPath, [script, "--tests"], {
      env: { ...process.env, DATABASE_URL: closedPort },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`db-setup: Postgres is not reachable at ${closedPort}`);
    expect(run.stderr).toContain("Fix: start Postgres");
    expect(run.stderr, "no stack trace").not.toMatch(/^\s+at /m);
    expect(run.stdout, "stopped before generating the clients").not.toContain("generated Prisma clients");
  });
});
