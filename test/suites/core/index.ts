/**
 * The core integration suite, run once per target (database and tiers) by
 * the files in test/integration. Each part lives in its own file.
 */
import { afterAll, beforeAll } from "vitest";
import { describeArgumentReuse } from "./argument-reuse.js";
import { describeContext } from "./context.js";
import { describeExpiry } from "./expiry.js";
import { Harness, type Target } from "../../helpers/harness.js";
import { describeHitsAndMisses } from "./hits-and-misses.js";
import { describeInvalidQueryOptions } from "./invalid-query-options.js";
import { describeKeyCanonicalisation } from "./key-canonicalisation.js";
import { describeMutationIsolation } from "./mutation-isolation.js";
import { describePassThrough } from "./pass-through.js";
import { describeReadOperations } from "./read-operations.js";
import { describeTransactions } from "./transactions.js";
import { describeTypeRoundTrips } from "./type-round-trips.js";

/** Registers the core suite for `target`; call it inside a `describe`. */
export function coreSuite(target: Target): void {
  const h = new Harness(target);
  beforeAll(() => h.start({ seed: "core" }));
  afterAll(() => h.stop());

  describeHitsAndMisses(h);
  describeReadOperations(h);
  describeTypeRoundTrips(h);
  describeMutationIsolation(h);
  describeKeyCanonicalisation(h);
  describeArgumentReuse(h);
  describeContext(h);
  describeTransactions(h);
  describeExpiry(h);
  describePassThrough(h);
  describeInvalidQueryOptions(h);
}
