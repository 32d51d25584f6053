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
  cutAfter(pattern: RegExp, how?: CutMode): Promise<string>;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

/**
 * How the connection dies once the server answered: "close" ends both sockets (pg: "Connection terminated
 * unexpectedly"); "reset" sends the client a TCP RST (pg: ECONNRESET, the adapter's ConnectionClosed); an object
 * replaces the answer by a FATAL ErrorResponse with that SQLSTATE, then closes, as a Postgres shutting down
 * (57P01) or a PgBouncer whose server connection died (08P01 "server conn crashed?") does.
 */
export type CutMode = "close" | "reset" | { fatal: { code: string; message: string } };

interface Armed {
  pattern: RegExp;
  how: CutMode;
  resolve(text: string): void;
}

/** A protocol-3 ErrorResponse ('E') with severity FATAL, `code` and `message`. */
function fatalErrorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat(
    [
      ["S", "FATAL"],
      ["V", "FATAL"],
      ["C", code],
      ["M", message],
    ].map(([type, value]) => Buffer.from(`${type}${value}\0`, "utf8")),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write("E", 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
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
    let cutting: { text: string; how: CutMode; resolve(text: string): void } | undefined;
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
        cutting = { text, how: armed.how, resolve: armed.resolve };
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
      const { how } = cutting;
      if (how === "reset") {
        server.destroy();
        client.resetAndDestroy();
      } else if (how !== "close") {
        client.end(fatalErrorResponse(how.fatal.code, how.fatal.message));
        server.destroy();
      } else end();
      cutting.resolve(cutting.text);
    });
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
  });
  const url = await listenInFrontOf(proxy, databaseUrl);
  return {
    url,
    cutAfter: (pattern, how = "close") =>
      new Promise<string>((resolve) => {
        armed = { pattern, how, resolve };
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
