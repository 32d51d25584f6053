/**
 * A private Redis Cluster for the tests of the library's Cluster code paths
 * (per-key scripts, no cross-slot pipelines or scripts, a subscriber that
 * lives on one node while writers publish through others): three masters, no
 * replicas, each a `redis-server --cluster-enabled yes` on free loopback
 * ports (RedisServer from redis-server.ts), joined with
 * `redis-cli --cluster create`. Nothing outlives `stop()`: the servers are
 * killed and their folder (nodes-<port>.conf files) is removed.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Cluster, Redis, type ClusterOptions } from "ioredis";
import { freePort, RedisServer } from "./redis-server.js";

const run = promisify(execFile);

/** How many masters the fixture starts: enough for keys, tags and the bus to land on different nodes. */
const MASTERS = 3;

/**
 * True when this machine can run the fixture: `redis-server` 7 or later
 * (7.0 added `cluster-port`, which lets the cluster bus use any free port
 * instead of port + 10000, which may be above 65535) and `redis-cli`, which
 * creates the cluster.
 */
export function redisClusterSupported(): boolean {
  const server = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  const major = Number(/v=(\d+)\./.exec(server.stdout ?? "")?.[1] ?? 0);
  return server.status === 0 && major >= 7 && spawnSync("redis-cli", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Free ports, all different from each other (a closed listener's port can be handed out again at once). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A running three-master Redis Cluster on loopback; see the file comment. */
export class RedisCluster {
  readonly #clients: Cluster[] = [];
  #stopped = false;

  /** Which master serves which slots, as CLUSTER SLOTS said once the cluster was up: [first, last, port]. */
  #slots: Array<[number, number, number]> = [];

  private constructor(
    readonly nodes: readonly RedisServer[],
    private readonly dir: string,
  ) {}

  /**
   * Starts the nodes, creates the cluster and resolves once every node
   * reports `cluster_state:ok` (every slot served, as each node sees it).
   * Whatever it started is stopped again if any step fails.
   */
  static async start(): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), "pqc-cluster-"));
    const nodes: RedisServer[] = [];
    const cluster = new RedisCluster(nodes, dir);
    try {
      const ports = await distinctFreePorts(MASTERS * 2);
      for (let i = 0; i < MASTERS; i++) {
        const [port, busPort] = [ports[2 * i]!, ports[2 * i + 1]!];
        const args = [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-port",
          String(busPort),
        ];
        nodes.push(await RedisServer.start({ port, dir, args }));
      }
      const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
      await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], {
        timeout: 30_000,
      });
      await cluster.#waitUntilOk();
      // No resharding happens in tests: the slot map read now stays true.
      cluster.#slots = await withNode(nodes[0]!.port, async (node) =>
        (await node.cluster("SLOTS")).map(([first, last, master]) => [first, last, Number(master?.[1])]),
      );
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** The ports of the masters. */
  get ports(): number[] {
    return this.nodes.map((node) => node.port);
  }

  /**
   * A new ioredis `Cluster` client, resolved once it is ready (the shared
   * tier skips a client that is not), disconnected by `stop()`. It has an
   * `error` listener: ioredis would otherwise throw a connection failure as
   * an unhandled error, where the library must see it through its own
   * calls (and report it through `onError`).
   */
  async client(options: ClusterOptions = {}): Promise<Cluster> {
    const client = new Cluster([{ host: "127.0.0.1", port: this.nodes[0]!.port }], options);
    client.on("error", () => undefined);
    this.#clients.push(client);
    if (client.status !== "ready") {
      await new Promise<void>((resolve, reject) => {
        client.once("ready", resolve);
        client.once("end", () => reject(new Error("the Cluster client ended before it was ready")));
      });
    }
    return client;
  }

  /**
   * The port of the master that serves `key`, from its slot computed here
   * (see {@link keySlot}): tests try many candidate key names to find ones on
   * different masters, and one round trip per candidate would be slow.
   */
  portOf(key: string): number {
    const slot = keySlot(key);
    const range = this.#slots.find(([first, last]) => first <= slot && slot <= last);
    if (range === undefined) throw new Error(`no master serves slot ${slot}`);
    return range[2];
  }

  /**
   * Names of the keys matching `pattern` on every master (SCAN on each node: a
   * Cluster client's SCAN reads one random node). For checks such as "no
   * single-flight lock is left"; the fixture's data is the tests' own.
   */
  async keysMatching(pattern: string): Promise<string[]> {
    const perNode = await Promise.all(
      this.nodes.map((server) =>
        withNode(server.port, async (node) => {
          const found: string[] = [];
          let cursor = "0";
          do {
            const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
            found.push(...keys);
            cursor = next;
          } while (cursor !== "0");
          return found;
        }),
      ),
    );
    return perNode.flat().sort();
  }

  /**
   * Forgets every Lua script on every master (SCRIPT FLUSH), as a restart or a failover does: clients must load them
   * again.
   */
  async flushScripts(): Promise<void> {
    await Promise.all(this.nodes.map((server) => withNode(server.port, (node) => node.script("FLUSH"))));
  }

  /** Disconnects every client made by {@link client}, kills the nodes and removes their folder. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const client of this.#clients) client.disconnect();
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #waitUntilOk(): Promise<void> {
    // `redis-cli --cluster create` returns once the slots are assigned; the nodes agree on it a moment later, by
    // gossip.
    for (let attempt = 0; attempt < 200; attempt++) {
      const states = await Promise.all(this.nodes.map((node) => clusterState(node.port)));
      if (states.every((state) => state === "ok")) return;
      await sleep(50);
    }
    throw new Error(`the Redis Cluster on ports ${this.ports.join(", ")} did not reach cluster_state:ok`);
  }
}

/**
 * The Cluster hash slot of `key`: CRC16 (XMODEM) of the key, or of its hash
 * tag (the text between the first `{` and the next `}`, when not empty),
 * modulo 16384, as the Redis Cluster specification defines it. A test
 * checks it against CLUSTER KEYSLOT.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, "utf8");
  const open = bytes.indexOf(0x7b);
  const close = open === -1 ? -1 : bytes.indexOf(0x7d, open + 1);
  const hashed = close > open + 1 ? bytes.subarray(open + 1, close) : bytes;
  let crc = 0;
  for (const byte of hashed) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** `cluster_state` from CLUSTER INFO of the node on `port` (undefined if it does not answer). */
function clusterState(port: number): Promise<string | undefined> {
  return withNode(port, async (node) => /cluster_state:(\w+)/.exec(String(await node.cluster("INFO")))?.[1]).catch(
    () => undefined,
  );
}

/**
 * Runs `use` on a plain connection to one node (not a Cluster client: these commands are about that node), then closes
 * it.
 */
async function withNode<T>(port: number, use: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  node.on("error", () => undefined);
  try {
    await node.connect();
    return await use(node);
  } finally {
    node.disconnect();
  }
}
