/**
 * Expiry as a ramp (docs/expiry.md): when an entry is fresh, when it is
 * served while one refresh replaces it, and when it is dead. Also the times
 * a new entry is stored with (jittered ttl, then the swr window).
 */
import type { ResolvedExpiry } from "../options/resolve.js";
import type { Entry } from "../tiers/entry.js";

/**
 * What a read does with an entry it found:
 * - `fresh`: serve it;
 * - `refresh`: serve it, and start one background refresh (XFetch chose to refresh it early);
 * - `stale`: past its ttl, or invalidated with `staleIfInvalidated`: serve it, and refresh;
 * - `dead`: do not serve it.
 */
export type Freshness = "fresh" | "refresh" | "stale" | "dead";

/**
 * The state of an entry that has not reached its hard expiry (`expiresAt`;
 * both tiers drop those), for a reader with `expiry`. `current` says whether its tag versions are still
 * the current ones: an invalidated entry is dead unless the query opted into
 * `staleIfInvalidated`.
 * @param random the source XFetch draws from (tests pass a fixed one)
 */
export function freshnessOf(
  entry: Entry,
  current: boolean,
  now: number,
  expiry: ResolvedExpiry,
  random: () => number = Math.random,
): Freshness {
  if (!current) return expiry.staleIfInvalidated ? "stale" : "dead";
  // The reader's own swr bounds how stale it accepts: entries are shared by reads that differ only in expiry settings.
  if (now >= entry.staleAt) return now < entry.staleAt + expiry.swrMs ? "stale" : "dead";
  return expiry.earlyRefresh > 0 && refreshEarly(entry, now, expiry.earlyRefresh, random) ? "refresh" : "fresh";
}

/**
 * XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache
 * Stampede Prevention", VLDB 2015): refresh when
 * `now - loadMs * beta * ln(random) >= staleAt`. The closer the end of the
 * ttl and the longer the load took, the likelier; one reader among many
 * refreshes a hot key shortly before it goes stale.
 */
function refreshEarly(entry: Entry, now: number, beta: number, random: () => number): boolean {
  return now - Math.max(entry.loadMs, 1) * beta * Math.log(random()) >= entry.staleAt;
}

/**
 * The times a value loaded now is stored with, or undefined when it is not
 * stored at all (its ttl is 0). The ttl is shortened by a random fraction
 * below `jitter`, never lengthened: a configured ttl bounds how long a
 * write the library did not see can go unnoticed (contract item 5).
 * @param random the source the jitter draws from (tests pass a fixed one)
 */
export function lifetimeOf(
  expiry: ResolvedExpiry,
  negative: boolean,
  now: number,
  random: () => number = Math.random,
): { staleAt: number; expiresAt: number } | undefined {
  const ttlMs = negative ? expiry.negativeTtlMs : expiry.ttlMs;
  if (ttlMs <= 0) return undefined;
  const freshMs = expiry.jitter > 0 ? Math.max(1, Math.round(ttlMs * (1 - expiry.jitter * random()))) : ttlMs;
  const staleAt = now + freshMs;
  return { staleAt, expiresAt: staleAt + expiry.swrMs };
}
