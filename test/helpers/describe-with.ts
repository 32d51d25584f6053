/**
 * `describeWith(services, name, fn)`: a `describe` block that needs real
 * services. Before its tests are collected it checks each named service, and
 * applies the project's rule for a missing one (see skipWithoutService): in
 * CI (`CI=true`) the file fails naming the service; on a developer machine
 * the block is skipped with a warning naming it, and shows as one skipped test.
 */
import { describe, it } from "vitest";
import { redisClusterSupported } from "./redis-cluster.js";
import {
  DATABASE_URL,
  postgresReachable,
  redactUrl,
  REDIS_URL,
  redisReachable,
  redisServerInstalled,
  skipWithoutService,
} from "./services.js";

/**
 * A service a test block can need: the Postgres at `DATABASE_URL`, the Redis at
 * `REDIS_URL`, the `redis-server` binary (fault-injection tests start their
 * own), or a `redis-server` able to form a Cluster.
 */
export type Service = "postgres" | "redis" | "redis-server" | "redis-cluster";

const probes: Record<Service, { label: () => string; available: () => boolean | Promise<boolean> }> = {
  postgres: { label: () => `Postgres at ${redactUrl(DATABASE_URL)}`, available: () => postgresReachable() },
  redis: { label: () => `Redis at ${redactUrl(REDIS_URL)}`, available: () => redisReachable() },
  "redis-server": { label: () => "The redis-server binary", available: redisServerInstalled },
  "redis-cluster": { label: () => "redis-server with cluster support", available: redisClusterSupported },
};

// One check per service and file, however many blocks name it.
const checks = new Map<Service, Promise<boolean>>();

function check(service: Service): Promise<boolean> {
  let checked = checks.get(service);
  if (checked === undefined) {
    checked = Promise.resolve(probes[service].available());
    checks.set(service, checked);
  }
  return checked;
}

/**
 * The label of the first of `services` that is missing ("Postgres at postgresql://..."), or undefined when all are
 * there. Throws in CI when one is missing.
 */
export async function missingService(services: readonly Service[]): Promise<string | undefined> {
  for (const service of services) {
    const label = probes[service].label();
    if (skipWithoutService(label, await check(service))) return label;
  }
  return undefined;
}

/** Like `describe(name, fn)`, run only when every one of `services` is available (see the file's header). */
export function describeWith(services: readonly Service[], name: string, fn: () => void): void {
  describe(name, async () => {
    const missing = await missingService(services);
    if (missing === undefined) return fn();
    // Reached only outside CI (missingService throws there): one skipped test that names the missing service, so
    // the run's summary shows what did not run and why, beside the warning missingService printed.
    it.skip(`needs ${missing}`, () => undefined);
  });
}
