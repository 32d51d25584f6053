/**
 * The load driver: sends workload requests over HTTP (keep-alive, Node's own `http`, so the driver costs the shared
 * CPU as little as it can) and records what came back.
 */
import http from "node:http";
import { summarise, type Summary } from "../measure.ts";
import type { Dataset } from "./dataset.ts";
import { type WorkloadRequest, type WriteOp, workload } from "./workload.ts";

/** One answer of the app. */
export interface Answer {
  status: number;
  body: string;
}

/**
 * Keep-alive connections for one run. Each run gets its own and destroys it after: a later run's app may listen on
 * a port an earlier run's app had, and an idle socket to the dead process would fail the first request.
 */
async function withAgent<T>(work: (agent: http.Agent) => Promise<T>): Promise<T> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  try {
    return await work(agent);
  } finally {
    agent.destroy();
  }
}

/** Sends `request` to the app at `baseUrl` over `agent`'s connections. */
export function send(agent: http.Agent, baseUrl: string, request: WorkloadRequest): Promise<Answer> {
  const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
  const headers: Record<string, string> = {};
  if (request.authorization) headers.authorization = request.authorization;
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const outgoing = http.request(`${baseUrl}${request.path}`, { method: request.method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

/** What a timed run measured. */
export interface LoadResult {
  requests: number;
  /** Requests per second over the measured duration. */
  throughput: number;
  /** Latency of every request, microseconds. */
  latency: Summary;
  /** Latency per operation of the workload (`listArticles`, `comment`...), microseconds. */
  byOp: Map<string, Summary>;
  /** Answers with a status of 500 or more (the app failed), which a run must not have. */
  serverErrors: number;
  /**
   * Share of the reads whose request (path and user) had been sent before in the run: about the most a cache could
   * answer if nothing were ever written or expired (a query shared by different requests can hit more often).
   */
  repeatShare: number;
}

/**
 * Runs `clients` concurrent clients for `seconds`: client i follows its own seeded stream and sends to app
 * `urls[i % urls.length]`, one request at a time (a closed loop: the next leaves when the previous answered).
 */
export async function timedLoad(options: {
  urls: string[];
  data: Dataset;
  readShare: number;
  seed: number;
  clients: number;
  seconds: number;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  const perOp = new Map<string, number[]>();
  const readsSeen = new Set<string>();
  let reads = 0;
  let repeats = 0;
  let serverErrors = 0;
  const start = performance.now();
  const end = start + options.seconds * 1000;
  await withAgent((agent) =>
    Promise.all(
      Array.from({ length: options.clients }, async (_, client) => {
        const stream = workload(options.data, options.readShare, options.seed, client);
        const url = options.urls[client % options.urls.length]!;
        while (performance.now() < end) {
          const request = stream.next();
          if (!request.write) {
            const key = `${request.path} ${request.authorization ?? ""}`;
            reads++;
            if (readsSeen.has(key)) repeats++;
            readsSeen.add(key);
          }
          const sent = performance.now();
          const answer = await send(agent, url, request);
          const latency = (performance.now() - sent) * 1000;
          latencies.push(latency);
          const ofOp = perOp.get(request.op) ?? [];
          perOp.set(request.op, ofOp);
          ofOp.push(latency);
          if (answer.status >= 500) serverErrors++;
        }
      }),
    ),
  );
  const elapsed = (performance.now() - start) / 1000;
  return {
    requests: latencies.length,
    throughput: latencies.length / elapsed,
    latency: summarise(Float64Array.from(latencies)),
    byOp: new Map([...perOp].map(([op, samples]) => [op, summarise(Float64Array.from(samples))])),
    serverErrors,
    repeatShare: repeats / Math.max(1, reads),
  };
}

/**
 * Sends the first `count` requests of one seeded stream one at a time, alternating between the apps (request j to
 * `urls[j % urls.length]`, so a read often follows a write made through the other process), and returns every
 * answer in order. One at a time, the database sees the same statements in the same order on every run, so two runs
 * must answer alike.
 */
export async function replay(options: {
  urls: string[];
  data: Dataset;
  readShare: number;
  seed: number;
  count: number;
  /** Weights of the writes, when not the workload's own. */
  writes?: Partial<Record<WriteOp, number>>;
  /** How many articles and users the requests pick from (see `workload`). */
  focus: number;
}): Promise<{ request: WorkloadRequest; answer: Answer }[]> {
  const stream = workload(options.data, options.readShare, options.seed, 0, options.writes, options.focus);
  return withAgent(async (agent) => {
    const answers = [];
    for (let j = 0; j < options.count; j++) {
      const request = stream.next();
      answers.push({ request, answer: await send(agent, options.urls[j % options.urls.length]!, request) });
    }
    return answers;
  });
}
