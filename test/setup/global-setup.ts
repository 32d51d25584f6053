/**
 * Vitest global set-up: decides which Postgres and Redis the run uses
 * (scripts/lib/services.mjs: the environment's URLs, else containers when a
 * container runtime answers, else the local services), starts the containers
 * when that is the choice, says which in one line, and hands the URLs to the
 * test files (`provide`, applied to `process.env` by service-urls.ts).
 *
 * A local or given service that does not answer is reported here once, with
 * the URL tried and the fix: in CI (`CI=true`) the run stops; elsewhere the
 * files that need it skip with a warning (test/helpers/describe-with.ts).
 */
import type { TestProject } from "vitest/node";
import { resetPostgres } from "../../scripts/lib/database.mjs";
import {
  checkPostgres,
  checkRedis,
  describePlan,
  planForEnvironment,
  ServiceUnreachableError,
  type ServiceKey,
  type ServicePlan,
} from "../../scripts/lib/services.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** The Postgres of this run (see test/setup/global-setup.ts). */
    databaseUrl: string;
    /** The Redis of this run. */
    redisUrl: string;
  }
}

/** Images of the containers: the versions the project is measured on (Postgres 15, Redis 7). */
const POSTGRES_IMAGE = "postgres:15-alpine";
const REDIS_IMAGE = "redis:7-alpine";

/** Something to stop when the run ends. */
interface Stoppable {
  stop(): Promise<unknown>;
}

/** Starts the containers `plan` asks for; returns every service's URL and what to stop afterwards. */
async function startServices(plan: ServicePlan): Promise<{ urls: Record<ServiceKey, string>; started: Stoppable[] }> {
  const started: Stoppable[] = [];
  let databaseUrl: string;
  if (plan.postgres.source === "container") {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const postgres = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
    started.push(postgres);
    databaseUrl = postgres.getConnectionUri();
    // A new container's database is empty: apply the migrations, as db-setup does for a local one.
    await resetPostgres(databaseUrl);
  } else databaseUrl = plan.postgres.url;
  let redisUrl: string;
  if (plan.redis.source === "container") {
    const { RedisContainer } = await import("@testcontainers/redis");
    const redis = await new RedisContainer(REDIS_IMAGE).start();
    started.push(redis);
    redisUrl = redis.getConnectionUrl();
  } else redisUrl = plan.redis.url;
  return { urls: { postgres: databaseUrl, redis: redisUrl }, started };
}

/** Checks a service the run did not start; see the file's header for what a missing one does. */
async function checkGiven(check: (url: string) => Promise<void>, url: string): Promise<void> {
  try {
    await check(url);
  } catch (error) {
    if (!(error instanceof ServiceUnreachableError)) throw error;
    if (process.env.CI === "true") {
      // The message says all there is to say: no stack under it.
      error.stack = `${error.name}: ${error.message}`;
      throw error;
    }
    console.warn(`[services] ${error.message}\nThe tests that need it are skipped (in CI they fail).`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plan = await planForEnvironment();
  const { urls, started } = await startServices(plan);
  console.log(`[services] ${describePlan(plan, urls)}`);
  if (plan.postgres.source !== "container") await checkGiven(checkPostgres, urls.postgres);
  if (plan.redis.source !== "container") await checkGiven(checkRedis, urls.redis);
  project.provide("databaseUrl", urls.postgres);
  project.provide("redisUrl", urls.redis);
  return async () => {
    for (const container of started) await container.stop();
  };
}
