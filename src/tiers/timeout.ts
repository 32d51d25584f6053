/** Bounds a Redis operation: a cache must never make a read slower than the database. */
import { CacheError } from "../errors.js";

/**
 * Resolves or rejects like `operation`, or rejects with `E_REDIS` after
 * `timeoutMs`. Any failure is normalised to a `CacheError` naming `what`.
 */
export async function withTimeout<T>(operation: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheError("E_REDIS", `${what} took longer than redisTimeout (${timeoutMs} ms).`)), timeoutMs);
  });
  try {
    return await Promise.race([operation, timeout]);
  } catch (error) {
    throw error instanceof CacheError ? error : new CacheError("E_REDIS", `${what} failed: ${(error as Error)?.message ?? String(error)}`, error);
  } finally {
    clearTimeout(timer);
  }
}
