/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1,
 * made with the `openssl` command line, for a TLS-only private `redis-server`
 * (redis-server.ts). Nothing here is secret: the files live in a temp folder
 * the caller removes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM files of a CA and a server certificate it signed, and how to remove them. */
export interface TestCertificates {
  ca: string;
  cert: string;
  key: string;
  remove(): void;
}

/** True when the `openssl` command line is installed. */
export function opensslInstalled(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Makes a CA and a certificate for `IP:127.0.0.1` signed by it, valid for a day. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "pqc-tls-"));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=pqc-test-ca",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  );
  // Node checks the address against the certificate's subjectAltName, not its CN.
  writeFileSync(file("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    file("san.ext"),
    "-out",
    file("server.crt"),
  );
  return {
    ca: file("ca.crt"),
    cert: file("server.crt"),
    key: file("server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
