/**
 * The entry envelope. The core owns it; tiers store it without looking inside.
 *
 * Shared-tier text format (one string, so a hit is one GET and one parse):
 *
 *     <fingerprint> "|" <storedAt ms> "|" <expiresAt ms> "|" <superjson payload>
 *
 * The fingerprint is checked on every read (a mismatch is a hash collision or
 * a foreign writer, and is treated as a miss). Times are wall-clock
 * milliseconds from the configured clock, so instances agree on them.
 */
import { deserialize, serialize } from "../serialize/serializer.js";

/** A decoded entry, as the in-process tier keeps it. */
export interface Entry<T = unknown> {
  readonly value: T;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** Encodes an entry for the shared tier. Throws when the value cannot be serialised. */
export function encodeEntry(fingerprint: string, entry: Entry, payload: string = serialize(entry.value)): string {
  return `${fingerprint}|${entry.storedAt}|${entry.expiresAt}|${payload}`;
}

/** Why an encoded entry was not usable. */
export type DecodeFailure = "fingerprint" | "malformed";

/**
 * Decodes a shared-tier string. Returns a failure reason instead of throwing
 * for foreign or damaged data; throws only if the payload itself cannot be
 * parsed (reported by the caller as a corrupt entry).
 */
export function decodeEntry<T>(text: string, fingerprint: string): Entry<T> | DecodeFailure {
  const first = text.indexOf("|");
  const second = text.indexOf("|", first + 1);
  const third = text.indexOf("|", second + 1);
  if (first < 0 || second < 0 || third < 0) return "malformed";
  if (text.slice(0, first) !== fingerprint) return "fingerprint";
  const storedAt = Number(text.slice(first + 1, second));
  const expiresAt = Number(text.slice(second + 1, third));
  if (!Number.isFinite(storedAt) || !Number.isFinite(expiresAt)) return "malformed";
  return { value: deserialize<T>(text.slice(third + 1)), storedAt, expiresAt };
}
