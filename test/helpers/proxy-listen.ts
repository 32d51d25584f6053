/** What the test proxies (freezable, cutting, delaying) share: where they forward to and where they listen. */
import type { Server } from "node:net";

/** The host and port of the service at `serviceUrl`, which must name its port. */
export function proxiedService(serviceUrl: string): { host: string; port: number } {
  const target = new URL(serviceUrl);
  if (target.port === "") throw new Error(`a proxy needs a port in ${serviceUrl}`);
  return { host: target.hostname, port: Number(target.port) };
}

/** Starts `proxy` on a free loopback port; resolves with `serviceUrl` rewritten to reach the service through it. */
export async function listenInFrontOf(proxy: Server, serviceUrl: string): Promise<string> {
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  const url = new URL(serviceUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return url.toString();
}
