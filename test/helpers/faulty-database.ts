/** Fault injection below the cache: a database that fails on demand. */
import type { BareClient } from "./clients.js";

/** A bare client whose operations throw while `failing.on` is set (a database outage), counting attempts. */
export function faultyDatabase(bare: BareClient): {
  client: BareClient;
  failing: { on: boolean };
  attempts: { n: number };
} {
  const failing = { on: false };
  const attempts = { n: 0 };
  const client = bare.$extends({
    name: "test-fault-injection",
    query: {
      $allOperations({ args, query }) {
        attempts.n++;
        if (failing.on) return Promise.reject(new Error("injected: the database is down"));
        return query(args);
      },
    },
  }) as unknown as BareClient;
  return { client, failing, attempts };
}
