/** Timeouts: an expired operation is failed even while the loop is kept busy by immediates, timers and I/O. */
import { createServer, connect } from "node:net";
import { expect, it } from "vitest";
import { withTimeout } from "../../../src/redis/timeout.js";

it("a frozen operation fails within ~2x redisTimeout under a constantly busy loop (immediates + timers + socket flood)", async () => {
  let busy = true;
  const spinImmediate = (): void => {
    if (!busy) return;
    const end = performance.now() + 2;
    while (performance.now() < end); // 2 ms of CPU per immediate
    setImmediate(spinImmediate);
  };
  const spinTimer = (): void => {
    if (busy) setTimeout(spinTimer, 0);
  };
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = (): void => {
      while (busy && socket.write(chunk));
      if (busy) socket.once("drain", pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, "127.0.0.1");
  client.on("error", () => undefined);
  client.on("data", () => {
    const end = performance.now() + 1;
    while (performance.now() < end);
  });
  spinImmediate();
  spinTimer();
  const started = performance.now();
  let settledCount = 0;
  const outcome = await withTimeout(new Promise<never>(() => undefined), 100, "frozen op").then(
    () => "resolved",
    (error: Error) => {
      settledCount++;
      return error.message;
    },
  );
  const elapsed = performance.now() - started;
  busy = false;
  client.destroy();
  server.close();
  expect(outcome).toMatch(/took longer than redisTimeout/);
  expect(settledCount).toBe(1);
  expect(elapsed).toBeLessThan(400);
});

it("an operation that settles after it was failed does not settle the caller twice", async () => {
  let finish!: (v: string) => void;
  const op = new Promise<string>((resolve) => (finish = resolve));
  const results: string[] = [];
  const p = withTimeout(op, 40, "late op").then(
    (v) => results.push(`ok ${v}`),
    (e: Error) => results.push(`err ${e.message}`),
  );
  await p;
  finish("late");
  await new Promise((r) => setTimeout(r, 20));
  expect(results).toHaveLength(1);
});
