/**
 * A TCP proxy in front of a service (Redis) that delays every byte by a set
 * time each way, as a slow network would: a round trip through it takes
 * twice the delay more. Order is kept (every chunk waits the same time).
 */
import { connect, createServer, type Socket } from "node:net";
import { listenInFrontOf, proxiedService } from "./proxy-listen.js";

/** A running proxy; `url` is the service URL through it. */
export interface DelayingProxy {
  url: string;
  /** Sets the delay each way, in ms, for bytes received from now on (0: none). */
  delayEachWay(ms: number): void;
  close(): Promise<void>;
}

/** Starts a delaying proxy on a free loopback port in front of the service at `serviceUrl` (which must name its port). */
export async function startDelayingProxy(serviceUrl: string): Promise<DelayingProxy> {
  const target = proxiedService(serviceUrl);
  const sockets = new Set<Socket>();
  let delayMs = 0;
  const forward = (to: Socket) => (chunk: Buffer) => {
    if (delayMs === 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), delayMs);
  };
  const proxy = createServer((client) => {
    const server = connect(target.port, target.host);
    sockets.add(client).add(server);
    client.on("data", forward(server));
    server.on("data", forward(client));
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
  });
  const url = await listenInFrontOf(proxy, serviceUrl);
  return {
    url,
    delayEachWay: (ms) => {
      delayMs = ms;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
