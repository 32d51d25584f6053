/**
 * Which Postgres and Redis the tests use, and what to say when one cannot be
 * reached. Shared by scripts/db-setup.mjs (the `pretest` step) and the
 * vitest global set-up (test/setup/global-setup.ts), so both pick the same
 * services by the same rule:
 *
 * - `DATABASE_URL` / `REDIS_URL` given: that service, as given;
 * - not given, and a container runtime (Docker, Podman, ...) answers: a
 *   throw-away container started with testcontainers for the run;
 * - not given, and no runtime: the local service at its default URL.
 *
 * `PQC_CONTAINERS=off` skips the runtime probe: local services even where a runtime runs.
 */
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "./database.mjs";

/** The command that starts each service on our machines (docs/development.md, "Set-up"). */
export const START_COMMANDS = {
  postgres: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
  redis:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
};

const SERVICES = {
  postgres: { name: "Postgres", variable: "DATABASE_URL", fallback: DEFAULT_DATABASE_URL },
  redis: { name: "Redis", variable: "REDIS_URL", fallback: DEFAULT_REDIS_URL },
};

/** True when the plan depends on whether a container runtime answers: a URL is missing and containers are not off. */
export function needsRuntimeProbe(env) {
  if (env.PQC_CONTAINERS === "off") return false;
  return Object.values(SERVICES).some(({ variable }) => !env[variable]);
}

/**
 * Where each service comes from, from the environment and whether a
 * container runtime answered. Pure: no probing, no I/O.
 */
export function planServices({ env, runtimeReachable }) {
  const containers = runtimeReachable && env.PQC_CONTAINERS !== "off";
  const plan = {};
  for (const [key, { variable, fallback }] of Object.entries(SERVICES)) {
    const given = env[variable];
    if (given) plan[key] = { source: "env", url: given };
    else if (containers) plan[key] = { source: "container" };
    else plan[key] = { source: "local", url: fallback };
  }
  return plan;
}

/** The one line the test run starts with: where each service comes from (URLs without passwords). */
export function describePlan(plan, urls = {}) {
  const part = (key) => {
    const { name, variable } = SERVICES[key];
    const choice = plan[key];
    const url = redactUrl(urls[key] ?? choice.url ?? "");
    if (choice.source === "container") return `${name} in a container (testcontainers)${url ? ` at ${url}` : ""}`;
    if (choice.source === "env") return `${name} from ${variable} (${url})`;
    return `local ${name} at ${url} (no ${variable} set, and no containers: no runtime found or PQC_CONTAINERS=off)`;
  };
  return `tests use ${part("postgres")}; ${part("redis")}`;
}

/** `url` without its password, for messages. */
export function redactUrl(url) {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** True when a container runtime answers (testcontainers' own detection: DOCKER_HOST, the socket, Podman, ...). */
export async function containerRuntimeReachable() {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** The plan for this process's environment, probing for a container runtime only when the plan depends on it. */
export async function planForEnvironment(env = process.env) {
  const runtimeReachable = needsRuntimeProbe(env) ? await containerRuntimeReachable() : false;
  return planServices({ env, runtimeReachable });
}

/**
 * What to tell a developer whose `service` ("postgres" or "redis") did not
 * answer at `url`: which service, the URL tried, why, and the fix.
 */
export function unreachableMessage(service, url, cause) {
  const { name, variable } = SERVICES[service];
  const reason = cause === undefined ? "" : ` (${describeCause(cause)})`;
  return [
    `${name} is not reachable at ${redactUrl(url)}${reason}.`,
    `Fix: start ${name}, for instance with`,
    `  ${START_COMMANDS[service]}`,
    `or set ${variable} to a ${name} you can use (see docs/development.md, "Set-up"); with no ${variable} and a`,
    `container runtime (Docker, Podman) running, the tests start ${name} in a container themselves.`,
  ].join("\n");
}

/** The useful part of a connection error: its code and message (an AggregateError holds one per address tried). */
function describeCause(cause) {
  const errors = Array.isArray(cause?.errors) && cause.errors.length > 0 ? cause.errors : [cause];
  const parts = errors.map(
    (error) =>
      (error?.code && !String(error.message).includes(error.code) ? `${error.code}: ` : "") +
      (error?.message ?? String(error)),
  );
  return [...new Set(parts)].join("; ");
}

/** Resolves when Postgres at `url` accepts a connection (to its `postgres` database: `url`'s may not exist yet). */
export async function checkPostgres(url) {
  const { default: pg } = await import("pg");
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new ServiceUnreachableError("postgres", url, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves when Redis at `url` answers PING. */
export async function checkRedis(url) {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis rejects with "Connection is closed."; the socket's own error (ECONNREFUSED, ...) says why.
  let socketError;
  redis.on("error", (error) => (socketError ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new ServiceUnreachableError("redis", url, socketError ?? error);
  } finally {
    redis.disconnect();
  }
}

/** A service the tests need did not answer; `message` is {@link unreachableMessage}'s, with no stack to read. */
export class ServiceUnreachableError extends Error {
  constructor(service, url, cause) {
    super(unreachableMessage(service, url, cause), { cause });
    this.name = "ServiceUnreachableError";
    this.service = service;
    this.url = url;
  }
}
