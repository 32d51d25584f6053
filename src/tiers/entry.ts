/**
 * The entry envelope. The core owns it; tiers store it without looking inside.
 *
 * Shared-tier text format (one string, so a hit is one read and one parse):
 *
 *     <fingerprint> "|" <storedAt ms> "|" <expiresAt ms> "|" <v1,v2,...> "|" <superjson payload>
 *
 * The fingerprint is checked on every read (a mismatch is a hash collision or
 * a foreign writer, and is treated as a miss). Times are wall-clock
 * milliseconds from the configured clock, so instances agree on them. The
 * versions are those of the entry's tags, captured before the database read
 * that produced the value (docs/invalidation.md); the tags themselves are
 * derived from the query, so they are not stored.
 */
import type { Cloner } from "../serialize/clone.js";
import { deserialize, serialize } from "../serialize/serializer.js";

/** A decoded entry, as the in-process tier keeps it. */
export interface Entry<T = unknown> {
  readonly value: T;
  readonly storedAt: number;
  readonly expiresAt: number;
  /** Tags the value depends on. */
  readonly tags: readonly string[];
  /** Version of each tag, captured before the database read. */
  readonly versions: readonly number[];
  /** In the in-process tier: the copier specialised for this value's shape (serialize/clone.ts). */
  readonly clone?: Cloner;
  /** In the in-process tier: the mirror epoch at which this entry was last found current (see VersionMirror.epoch). */
  checkedEpoch?: number;
}

/** Encodes an entry for the shared tier. Throws when the value cannot be serialised. */
export function encodeEntry(fingerprint: string, entry: Entry, payload: string = serialize(entry.value)): string {
  return `${fingerprint}|${entry.storedAt}|${entry.expiresAt}|${entry.versions.join(",")}|${payload}`;
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
  for (let i = 0; i < 4; i++) {
    at = text.indexOf("|", at + 1);
    if (at < 0) return "malformed";
    bounds.push(at);
  }
  const [first, second, third, fourth] = bounds as [number, number, number, number];
  if (text.slice(0, first) !== fingerprint) return "fingerprint";
  const storedAt = Number(text.slice(first + 1, second));
  const expiresAt = Number(text.slice(second + 1, third));
  const versionText = text.slice(third + 1, fourth);
  const versions = versionText === "" ? [] : versionText.split(",").map(Number);
  if (!Number.isFinite(storedAt) || !Number.isFinite(expiresAt) || versions.length !== tags.length || versions.some((v) => !Number.isFinite(v))) return "malformed";
  return { value: deserialize<T>(text.slice(fourth + 1)), storedAt, expiresAt, tags, versions };
}
