/** Hashing for shared-tier key names. */
import { hash } from "node:crypto";

/**
 * SHA-256 of `text`, split in two: `id` (the first 128 bits) names the Redis
 * key, `fingerprint` (the other 128 bits) is stored in the entry and checked
 * on read, so a key-name collision can never return another query's result.
 * Both are base64url, so key names carry no raw argument values.
 */
export function hashKey(text: string): { id: string; fingerprint: string } {
  // One-shot crypto.hash: no Hash object per call (this runs on every shared-tier read).
  const digest = hash("sha256", text, "buffer");
  return { id: digest.subarray(0, 16).toString("base64url"), fingerprint: digest.subarray(16).toString("base64url") };
}

/** A short, stable hash for values such as the data model (96 bits, base64url). */
export function shortHash(text: string): string {
  return hash("sha256", text, "buffer").subarray(0, 12).toString("base64url");
}
