/**
 * A TCP proxy in front of a service (Postgres, Redis) whose connections can be frozen: bytes
 * stop flowing both ways while the sockets stay open, as in a network
 * partition that sends no FIN or RST. New connections made after a freeze
 * flow normally.
 */
import { createServer, connect, type Socket } from "node:net";
import { listenInFrontOf, proxiedService } from "./proxy-listen.js";

/** A running proxy; `url` is the database URL through it. */
export interface FreezableProxy {
  url: string;
  /** Stops every connection open now from carrying data (they stay open). */
  freezeOpenConnections(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of the service at `serviceUrl` (which must name its port). */
export async function startFreezableProxy(serviceUrl: string): Promise<FreezableProxy> {
  const target = proxiedService(serviceUrl);
  const pairs: { client: Socket; server: Socket; frozen: boolean }[] = [];
  const proxy = createServer((client) => {
    const server = connect(target.port, target.host);
    const pair = { client, server, frozen: false };
    pairs.push(pair);
    // Data is dropped, not buffered, once frozen: nothing arrives late when the test has moved on.
    client.on("data", (chunk) => pair.frozen || server.write(chunk));
    server.on("data", (chunk) => pair.frozen || client.write(chunk));
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
  });
  const url = await listenInFrontOf(proxy, serviceUrl);
  return {
    url,
    freezeOpenConnections: () => {
      for (const pair of pairs) pair.frozen = true;
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
