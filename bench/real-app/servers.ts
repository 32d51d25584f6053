/**
 * The app processes of one run: the vendored Conduit server (its own `src/main.ts`, unchanged) forked twice, both on
 * the same database and Redis, with the client `mode` chooses (see app/src/prisma/prisma-client.ts).
 */
import { type ChildProcess, fork } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "app", "src", "main.ts");

/** A free loopback TCP port (for an app process to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** What each app's client is extended with. */
export type CacheMode = "none" | "pqc" | "peer";

/** Counters of one app process: cache reads answered by a cache or sent to the database, database statements. */
export interface HitCounts {
  hits: number;
  misses: number;
  queries: number;
  /** CPU time the process has used (user + system), in ms: per request, it does not move with the machine's load. */
  cpuMs: number;
  /** With prisma-query-cache: automatic admission's decisions, `[shape, admitted, last hit ratio]`, per process. */
  shapes?: [string, boolean, number | undefined][];
}

/** Running app processes. */
export interface AppServers {
  /** One base URL per process (`http://127.0.0.1:PORT`). */
  urls: string[];
  /** The summed hit counts of every process. */
  counts(): Promise<HitCounts>;
  stop(): Promise<void>;
}

/** Forks one app server per port of `ports`, and resolves once every one listens. */
export async function startServers(options: {
  mode: CacheMode;
  databaseUrl: string;
  redisUrl: string;
  /** Key prefix of this run in Redis: every run its own, so no run finds another's entries. */
  prefix: string;
  /** One port per app process. */
  ports: number[];
}): Promise<AppServers> {
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  for (const port of options.ports) {
    const child = fork(main, [], {
      // Prisma's query interpreter sends statements of one transaction without waiting (pg 8 warns, once per process):
      // not the app's doing nor the cache's, and noise in the output.
      // BENCH_NODE_ARGS: extra Node flags for the apps (bench/real-app/profile.ts passes the CPU profiler's).
      execArgv: ["--import", "tsx", "--no-deprecation", ...(process.env.BENCH_NODE_ARGS?.split(" ") ?? [])],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: options.databaseUrl,
        REDIS_URL: options.redisUrl,
        BENCH_CACHE: options.mode,
        BENCH_PREFIX: options.prefix,
        NODE_ENV: "production",
      },
    });
    children.push(child);
    urls.push(`http://127.0.0.1:${port}`);
  }
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
  };
  try {
    await Promise.all(children.map(listening));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls,
    stop,
    counts: async () => {
      const each = await Promise.all(children.map(askCounts));
      return each.reduce(
        (sum, c) => ({
          hits: sum.hits + c.hits,
          misses: sum.misses + c.misses,
          queries: sum.queries + c.queries,
          cpuMs: sum.cpuMs + c.cpuMs,
          shapes: [...(sum.shapes ?? []), ...(c.shapes ?? [])],
        }),
        { hits: 0, misses: 0, queries: 0, cpuMs: 0 },
      );
    },
  };
}

/** Resolves when the app prints its own start-up line (`server up on port N`); rejects if it exits first. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("server up on port")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the app exited (${code}) before listening:\n${output}`)));
  });
}

function askCounts(child: ChildProcess): Promise<HitCounts> {
  return new Promise((resolve) => {
    const answer = (message: { type?: string } & HitCounts) => {
      if (message?.type !== "stats") return;
      child.off("message", answer);
      resolve({
        hits: message.hits,
        misses: message.misses,
        queries: message.queries,
        cpuMs: message.cpuMs,
        shapes: message.shapes,
      });
    };
    child.on("message", answer);
    child.send({ type: "stats" });
  });
}
