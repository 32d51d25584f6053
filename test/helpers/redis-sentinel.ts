/**
 * A private Redis Sentinel set-up: one master, one replica and one sentinel,
 * each a `redis-server` on a free loopback port (the sentinel with a config
 * file of its own in a temp folder, which it rewrites). Nothing is kept on disk
 * but that file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis, type RedisOptions } from "ioredis";
import { pollUntil } from "./poll.js";
import { freePort, RedisServer } from "./redis-server.js";

/** The name the sentinel monitors the master under. */
export const MASTER_NAME = "pqc-master";

/** A running master, replica and sentinel. */
export class RedisSentinelSetup {
  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinelPort: number,
    private readonly sentinel: ChildProcess,
    private readonly dir: string,
  ) {}

  /** Starts the three and resolves once the sentinel knows the master and its replica, and the replica is in sync. */
  static async start(): Promise<RedisSentinelSetup> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
    const sentinelPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "pqc-sentinel-"));
    const config = join(dir, "sentinel.conf");
    writeFileSync(
      config,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        "",
      ].join("\n"),
    );
    const sentinel = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
    const setup = new RedisSentinelSetup(master, replica, sentinelPort, sentinel, dir);
    try {
      await setup.untilReplicaInSync();
    } catch (error) {
      await setup.stop();
      throw error;
    }
    return setup;
  }

  /**
   * Resolves once the sentinel sees a replica of the current master with its link up (after start, and after a
   * failover once the old master has been turned into a replica): only then can it fail over again.
   */
  async untilReplicaInSync(ms = 20_000): Promise<void> {
    const admin = this.sentinelClient();
    try {
      const ready = await pollUntil(
        async () => {
          const replicas = (await admin.call("SENTINEL", "REPLICAS", MASTER_NAME).catch(() => [])) as string[][];
          return replicas.some((fields) => {
            const field = (name: string) => fields[fields.indexOf(name) + 1];
            return field("flags") === "slave" && field("master-link-status") === "ok";
          });
        },
        (done) => done,
        ms,
      );
      if (!ready) throw new Error(`the sentinel saw no replica in sync within ${ms} ms`);
    } finally {
      admin.disconnect();
    }
  }

  /** A connection to the sentinel itself (for SENTINEL commands); the caller disconnects it. */
  sentinelClient(): Redis {
    const client = new Redis({ host: "127.0.0.1", port: this.sentinelPort, maxRetriesPerRequest: 1 });
    client.on("error", () => undefined);
    return client;
  }

  /** ioredis options of an application connection through the sentinel (it follows a failover). */
  clientOptions(): RedisOptions {
    return {
      sentinels: [{ host: "127.0.0.1", port: this.sentinelPort }],
      name: MASTER_NAME,
      failoverDetector: true,
      maxRetriesPerRequest: 1,
    };
  }

  /** The master's port as the sentinel says now. */
  async masterPort(): Promise<number> {
    const admin = this.sentinelClient();
    try {
      const [, port] = (await admin.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)) as [string, string];
      return Number(port);
    } finally {
      admin.disconnect();
    }
  }

  /** Stops the sentinel and both servers, and removes the sentinel's config. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.sentinel.exitCode === null && this.sentinel.signalCode === null) {
      const exited = once(this.sentinel, "exit");
      this.sentinel.kill("SIGKILL");
      await exited;
    }
    await this.master.kill();
    await this.replica.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
