/**
 * The entry envelope. The core owns it; tiers store it without looking inside.
 *
 * Shared-tier text format (one string, so a hit is one read and one parse):
 *
 *     <fingerprint> "|" <storedAt> "|" <staleAt> "|" <expiresAt> "|" <loadMs> "|" <v1,v2,...> "|" <superjson payload>
 *
 * The fingerprint is checked on every read (a mismatch is a hash collision or
 * a foreign writer, and is treated as a miss). Times are wall-clock
 * milliseconds from the configured clock, so instances agree on them: fresh
 * before `staleAt`, servable while refreshing until `expiresAt`
 * (docs/expiry.md). `loadMs` is how long the load took (for early refresh). The
 * versions are those of the entry's tags, captured before the database read
 * that produced the value (docs/invalidation.md); the tags themselves are
 * derived from the query, so they are not stored.
 */
import type { ShapeRecord } from "../observe/shape-table.js";
import type { Cloner } from "../serialize/clone.js";
import { deserialize, serialize } from "../serialize/serializer.js";

/** A decoded entry, as the in-process tier keeps it. */
export interface Entry<T = unknown> {
  readonly value: T;
  readonly storedAt: number;
  /** End of the (jittered) ttl: fresh before, stale (served while refreshing) after. */
  readonly staleAt: number;
  /** End of the stale window: never served from then on. */
  readonly expiresAt: number;
  /** How long the database read (or computation) that produced the value took, in ms. */
  readonly loadMs: number;
  /** Tags the value depends on. */
  readonly tags: readonly string[];
  /** Version of each tag, captured before the database read. */
  readonly versions: readonly number[];
  /** In the in-process tier: the copier specialised for this value's shape (serialize/clone.ts). */
  readonly clone?: Cloner;
  /** In the in-process tier: the mirror epoch at which this entry was last found current (see VersionMirror.epoch). */
  checkedEpoch?: number;
  /** In the in-process tier, with labelled metrics: the counters of its query shape (found once, on its first hit). */
  record?: ShapeRecord;
}

/** Encodes an entry for the shared tier. Throws when the value cannot be serialised. */
export function encodeEntry(fingerprint: string, entry: Entry, payload: string = serialize(entry.value)): string {
  return `${fingerprint}|${entry.storedAt}|${entry.staleAt}|${entry.expiresAt}|${entry.loadMs}|${entry.versions.join(",")}|${payload}`;
}

/** Why an encoded entry was not usable. */
export type DecodeFailure = "fingerprint" | "malformed";

/**
 * Decodes a shared-tier string for the query whose tags are `tags`. Returns a
 * failure reason instead of throwing for foreign or damaged data; throws only
 * if the payload itself cannot be parsed (reported by the caller as a corrupt entry).
 */
export function decodeEntry<T>(text: string, fingerprint: string, tags: readonly string[]): Entry<T> | DecodeFailure {
  const bounds: number[] = [];
  let at = -1;
  for (let i = 0; i < 6; i++) {
    at = text.indexOf("|", at + 1);
    if (at < 0) return "malformed";
    bounds.push(at);
  }
  if (text.slice(0, bounds[0]) !== fingerprint) return "fingerprint";
  const [storedAt, staleAt, expiresAt, loadMs] = [0, 1, 2, 3].map((i) =>
    Number(text.slice((bounds[i] as number) + 1, bounds[i + 1])),
  );
  const versionText = text.slice((bounds[4] as number) + 1, bounds[5]);
  const versions = versionText === "" ? [] : versionText.split(",").map(Number);
  const times = [storedAt, staleAt, expiresAt, loadMs] as number[];
  if (
    times.some((t) => !Number.isFinite(t)) ||
    versions.length !== tags.length ||
    versions.some((v) => !Number.isFinite(v))
  )
    return "malformed";
  return {
    value: deserialize<T>(text.slice((bounds[5] as number) + 1)),
    storedAt: storedAt as number,
    staleAt: staleAt as number,
    expiresAt: expiresAt as number,
    loadMs: loadMs as number,
    tags,
    versions,
  };
}
