/**
 * A private `redis-server` process on a free loopback port, for tests that
 * stop, kill or corrupt their Redis, and the nodes of a private Redis
 * Cluster (redis-cluster.ts). Nothing is kept on disk.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

/** A free TCP port on 127.0.0.1 (free when this returns; the server binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("could not find a free port");
  return address.port;
}

/** What {@link RedisServer.start} may change. */
export interface RedisServerOptions {
  /** The port; a free one by default. */
  port?: number;
  /**
   * Where the server may write (a Cluster node writes its nodes.conf there, a replica the RDB of its sync); a new
   * folder of its own by default, removed when it is killed. Never a shared folder: a server loads any `dump.rdb` it
   * finds there at start, so a replica's sync file would fill the next server started in it.
   */
  dir?: string;
  /** Further command-line options, e.g. `["--cluster-enabled", "yes"]`. */
  args?: readonly string[];
  /**
   * Serve TLS only (no plain-text port) with these PEM files: the server's certificate and key, and the CA that
   * signed it (which clients must trust: {@link RedisServer.tlsOptions}).
   */
  tls?: { cert: string; key: string; ca: string };
}

/** One private `redis-server` child process. */
export class RedisServer {
  private constructor(
    readonly port: number,
    private readonly process: ChildProcess,
    /** The folder made for this server alone, removed when it is killed (undefined when the caller gave one). */
    private readonly ownDir: string | undefined,
    /** ioredis `tls` options for a TLS-only server (the CA to trust), else undefined. */
    readonly tlsOptions: { ca: Buffer } | undefined,
  ) {}

  /** Starts a server and resolves once it answers PING (a Cluster node answers it before it has slots). */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const ownDir = options.dir === undefined ? mkdtempSync(join(tmpdir(), "pqc-redis-")) : undefined;
    const dir = options.dir ?? (ownDir as string);
    const tls = options.tls;
    const listen =
      tls === undefined
        ? ["--port", String(port)]
        : ["--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key].concat([
            "--tls-ca-cert-file",
            tls.ca,
            "--tls-auth-clients",
            "no",
          ]);
    const args = [
      ...listen,
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      ...(options.args ?? []),
    ];
    const child = spawn("redis-server", args, { stdio: "ignore" });
    const tlsOptions = tls && { ca: readFileSync(tls.ca) };
    const server = new RedisServer(port, child, ownDir, tlsOptions);
    try {
      await server.#waitUntilReady();
    } catch (error) {
      await server.kill();
      throw error;
    }
    return server;
  }

  /** `redis://127.0.0.1:<port>`, or `rediss://` for a TLS-only server (connect with {@link tlsOptions} too). */
  get url(): string {
    return `${this.tlsOptions === undefined ? "redis" : "rediss"}://127.0.0.1:${this.port}`;
  }

  async #waitUntilReady(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.process.exitCode !== null) throw new Error(`redis-server exited with code ${this.process.exitCode}`);
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(this.tlsOptions && { tls: this.tlsOptions }),
      });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        if ((await probe.ping()) === "PONG") return;
      } catch {
        // not listening yet
      } finally {
        probe.disconnect();
      }
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not become ready`);
  }

  /** Freezes the server (SIGSTOP): connections stay open, commands get no answer. */
  pause(): void {
    this.process.kill("SIGSTOP");
  }

  /** Thaws a paused server (SIGCONT). */
  resume(): void {
    this.process.kill("SIGCONT");
  }

  /** Kills the server (SIGKILL) and waits for it to exit. Safe to call twice. */
  async kill(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = once(this.process, "exit");
      this.process.kill("SIGKILL");
      await exited;
    }
    if (this.ownDir !== undefined) rmSync(this.ownDir, { recursive: true, force: true });
  }
}

/**
 * Private servers for one `describe` block: returns a function that starts one, and kills every server it started
 * after the block, once `stopFirst` (the harness's stop, which closes the connections to them) has run.
 */
export function privateRedisServers(
  stopFirst?: () => Promise<void>,
): (options?: RedisServerOptions) => Promise<RedisServer> {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    await stopFirst?.();
    for (const server of servers) await server.kill();
  });
  return async (options) => {
    const server = await RedisServer.start(options);
    servers.push(server);
    return server;
  };
}
