/**
 * A TCP proxy in front of Postgres that makes a commit's outcome unknown to
 * the client: once armed, it forwards the first client message whose text
 * matches a pattern (a `COMMIT`, an `UPDATE`), lets the server answer it
 * (so the server has executed, and for an autocommit statement committed,
 * it), drops that answer and closes both sockets. The client sees its
 * connection die with its statement unanswered, exactly as when a network
 * fails right after the server committed.
 *
 * Only the connection that sent the matching message is cut; the others
 * (the pool's idle connections, other clients) carry on.
 */
import { connect, createServer, type Socket } from "node:net";
import { listenInFrontOf, proxiedService } from "./proxy-listen.js";

/** A running proxy; `url` is the database URL through it. */
export interface CuttingProxy {
  url: string;
  /**
   * Cuts the next connection that sends a message matching `pattern`, after the server answered it. Resolves with
   * the text of the message once the connection was cut.
   */
  cutAfter(pattern: RegExp): Promise<string>;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

interface Armed {
  pattern: RegExp;
  resolve(text: string): void;
}

/** Starts a proxy on a free loopback port in front of the Postgres at `databaseUrl` (which must name its port). */
export async function startCuttingProxy(databaseUrl: string): Promise<CuttingProxy> {
  const target = proxiedService(databaseUrl);
  const sockets = new Set<Socket>();
  let armed: Armed | undefined;
  let cuts = 0;
  const proxy = createServer((client) => {
    const server = connect(target.port, target.host);
    sockets.add(client).add(server);
    /** Set once this connection sent the armed message: the server's next bytes answer it. */
    let cutting: { text: string; resolve(text: string): void } | undefined;
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on("data", (chunk: Buffer) => {
      if (cutting !== undefined) return; // nothing more reaches the server once the cut is decided
      const text = chunk.toString("latin1");
      if (armed !== undefined && armed.pattern.test(text)) {
        cutting = { text, resolve: armed.resolve };
        armed = undefined;
      }
      server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      if (cutting === undefined) {
        client.write(chunk);
        return;
      }
      // The server answered the statement: it ran (and an autocommit statement committed). The client never hears it.
      cuts++;
      end();
      cutting.resolve(cutting.text);
    });
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
  });
  const url = await listenInFrontOf(proxy, databaseUrl);
  return {
    url,
    cutAfter: (pattern) =>
      new Promise<string>((resolve) => {
        armed = { pattern, resolve };
      }),
    get cuts() {
      return cuts;
    },
    close: async () => {
      armed = undefined;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
