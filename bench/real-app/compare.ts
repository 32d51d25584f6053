/**
 * Compares the answers of two replays of one request stream. Two things are normalised, nothing else (ids included,
 * everything must match byte for byte):
 *
 * - timestamps the run itself wrote (a created article's or comment's `createdAt`/`updatedAt`, an edited article's
 *   `updatedAt`): the clock, not the cache, decides them;
 * - the order of the lists the app reads without an `orderBy` (an article's `comments`, `tagList` and
 *   `favoritedBy`): SQL gives them no order, and Postgres returns them in the order the rows lie on disk, which
 *   differs between two runs (autovacuum's timing, page pruning during reads) even when both hold the same rows.
 *   They are compared as sets.
 */

import type { Answer } from "./load.ts";
import type { WorkloadRequest } from "./workload.ts";

const isoTimestamp = /"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"/g;

/** Keys whose arrays the app fetches without an order (see above). */
const unordered = new Set(["comments", "tagList", "favoritedBy"]);

/** `value` with the arrays under `unordered` keys sorted, at any depth. */
function sortUnordered(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => sortUnordered(item));
    if (key === undefined || !unordered.has(key)) return items;
    return items
      .map((item) => [JSON.stringify(item), item] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, item]) => item);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortUnordered(v, k)]));
  }
  return value;
}

/**
 * `body` with every ISO timestamp at or after `since` (ms) replaced by `"<written during the run>"`, and, when it is
 * JSON, the unordered lists sorted.
 */
export function normalise(body: string, since: number): string {
  const stamped = body.replace(isoTimestamp, (whole, iso: string) =>
    Date.parse(iso) >= since ? '"<written during the run>"' : whole,
  );
  try {
    return JSON.stringify(sortUnordered(JSON.parse(stamped)));
  } catch {
    return stamped; // not JSON (an empty 204, a plain-text error): compared as it is
  }
}

/** One answer that differs between the two replays. */
export interface Difference {
  index: number;
  request: WorkloadRequest;
  expected: Answer;
  actual: Answer;
}

/**
 * The answers of `actual` that differ from `expected` (the uncached replay), after normalising timestamps written
 * after `expectedStart` / `actualStart` (when each replay began).
 */
export function differences(
  expected: { request: WorkloadRequest; answer: Answer }[],
  expectedStart: number,
  actual: { request: WorkloadRequest; answer: Answer }[],
  actualStart: number,
): Difference[] {
  const found: Difference[] = [];
  expected.forEach((want, index) => {
    const got = actual[index]!;
    const same =
      want.answer.status === got.answer.status &&
      normalise(want.answer.body, expectedStart) === normalise(got.answer.body, actualStart);
    if (!same) found.push({ index, request: want.request, expected: want.answer, actual: got.answer });
  });
  return found;
}
