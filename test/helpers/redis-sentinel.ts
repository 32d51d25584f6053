/**
 * A private Redis Sentinel set-up: one master, one replica and one sentinel,
 * each its own `redis-server` process on the ports given, nothing on disk
 * but the sentinel's configuration file (a sentinel must be able to rewrite
 * it). `stop()` kills all three.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { startDelayingProxy, type DelayingProxy } from "./delaying-proxy.js";
import { pollUntil } from "./poll.js";
import { RedisServer } from "./redis-server.js";

/** The name the sentinel monitors the master under. */
export const SENTINEL_MASTER_NAME = "pqc-test";

/** A running set-up. */
export interface SentinelSetup {
  readonly sentinelPort: number;
  /** A connection to the sentinel (SENTINEL commands). */
  readonly sentinel: Redis;
  /** The port of the current master, as the sentinel says. */
  masterPort(): Promise<number>;
  /**
   * Delays the first replica's link to the first master by `ms` each way from now on (until a failover, after which
   * the old master replicates directly).
   */
  delayReplication(ms: number): void;
  /** Asks the sentinel to fail over, and resolves once it names the other node as master. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts master, replica and sentinel on `ports` (in that order); resolves once the sentinel knows the replica. The
 * replica reaches the master through a proxy (test/helpers/delaying-proxy.ts) whose delay
 * {@link SentinelSetup.delayReplication} sets, so that it lags behind the master as an asynchronous replica over a
 * slow link does: a failover then loses the writes of the last moments.
 */
export async function startSentinelSetup(ports: { master: number; replica: number; sentinel: number }) {
  const dir = mkdtempSync(join(tmpdir(), "pqc-sentinel-"));
  const started: {
    servers: RedisServer[];
    sentinel?: ChildProcess;
    sentinelClient?: Redis;
    link?: DelayingProxy;
  } = { servers: [] };
  const stop = async () => {
    started.sentinelClient?.disconnect();
    await started.link?.close();
    const process = started.sentinel;
    if (process !== undefined && process.exitCode === null && process.signalCode === null) {
      const exited = once(process, "exit");
      process.kill("SIGKILL");
      await exited;
    }
    for (const server of started.servers) await server.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    started.servers.push(await RedisServer.start({ port: ports.master, dir }));
    const link = await startDelayingProxy(`redis://127.0.0.1:${ports.master}`);
    started.link = link;
    const upstream = Number(new URL(link.url).port);
    started.servers.push(
      await RedisServer.start({ port: ports.replica, dir, args: ["--replicaof", "127.0.0.1", String(upstream)] }),
    );
    const config = join(dir, "sentinel.conf");
    writeFileSync(
      config,
      [
        `port ${ports.sentinel}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${ports.master} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 2000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        "",
      ].join("\n"),
    );
    started.sentinel = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
    const sentinel = new Redis(ports.sentinel, "127.0.0.1", { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
    sentinel.on("error", () => undefined);
    started.sentinelClient = sentinel;
    const replicas = () =>
      (sentinel.call("SENTINEL", "REPLICAS", SENTINEL_MASTER_NAME) as Promise<string[][]>).catch(() => []);
    // The sentinel learns the replica from the master's INFO (every 10 s at first), and the replica must be in sync
    // before a failover can pick it.
    const known = await pollUntil(
      replicas,
      (list) => list.some((fields) => fields.join(" ").includes("master-link-status ok")),
      30_000,
    );
    if (known.length === 0) throw new Error("the sentinel did not learn the replica in 30 s");
    const masterPort = async () =>
      Number(((await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER_NAME)) as string[])[1]);
    const setup: SentinelSetup = {
      sentinelPort: ports.sentinel,
      sentinel,
      masterPort,
      failover: async () => {
        const before = await masterPort();
        await sentinel.call("SENTINEL", "FAILOVER", SENTINEL_MASTER_NAME);
        const after = await pollUntil(masterPort, (port) => port !== before, 30_000);
        if (after === before) throw new Error("the sentinel did not fail over in 30 s");
        return after;
      },
      delayReplication: (ms) => link.delayEachWay(ms),
      stop,
    };
    return setup;
  } catch (error) {
    await stop();
    throw error;
  }
}
