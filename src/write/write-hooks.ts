/**
 * The write side: a `query` component that lets every mutation run, then
 * works out what it can have changed (tags derived from the data model, plus
 * the caller's `cache: { invalidates }`) and invalidates it:
 *   - outside a transaction, before the mutation's promise resolves;
 *   - in an interactive transaction, at its outermost commit (TransactionTags);
 *   - in a batch transaction, when its element resolves: Prisma resolves
 *     elements once the batch is over. On a rollback it still resolves the
 *     elements that ran before the failing one, so a failed batch may
 *     invalidate what they wrote: extra misses, never old data.
 * Raw writes (`$executeRaw`, `$executeRawUnsafe`) invalidate every model,
 * unless `prisma.$cache.rawWrites({ invalidates }, fn)` declared their tags.
 * A write that fails with its outcome unknown (the connection dropped after
 * the server committed) invalidates as if it had succeeded, then rejects.
 * An element of a failed batch rejects only once the invalidations its
 * batch's writes started are done (batch-invalidations.ts): Prisma rejects
 * the batch with its first element to reject.
 */
import type { AsyncLocalStorage } from "node:async_hooks";
import { CacheError } from "../errors.js";
import type { Invalidator } from "../invalidation/invalidator.js";
import { rejectUnknownKeys } from "../options/resolve.js";
import { fluentPathOf, queryWithoutFluentPath, transactionOf, unpackFluentPath } from "../prisma/internals.js";
import { writeMayHaveCommitted } from "../prisma/write-failure.js";
import type { RequestScope } from "../read/request-scope.js";
import type { SchemaGraph } from "../schema/schema-graph.js";
import { validateTags, wholeModelTags } from "../tags/tag-names.js";
import { writeTags } from "../tags/write-tags.js";
import type { BatchInvalidations } from "./batch-invalidations.js";
import type { TransactionTags } from "./transaction-tags.js";
import type { WriteThrough } from "./write-through.js";
import { WRITE_OPERATIONS } from "../prisma/operations.js";

interface QueryCall {
  model?: string;
  operation: string;
  args: unknown;
  query(args: unknown): Promise<unknown>;
}

/** What the write side needs (built in compose.ts). */
export interface WriteSide {
  readonly graph: SchemaGraph;
  readonly transactions: TransactionTags;
  /** Only when a model has `writeThrough`. */
  readonly writeThrough: WriteThrough | undefined;
  /** Bumps a write's tags on every instance. */
  readonly invalidator: Pick<Invalidator, "invalidate">;
  /** Drops the entries of the caller's request scope (if any) that depend on a write's tags. */
  readonly requestScope: Pick<RequestScope, "forget">;
  report(error: CacheError): void;
  /**
   * The tags this instance's `prisma.$cache.rawWrites(...)` declared for the
   * raw writes running inside it. One per instance: another client's
   * declaration must not narrow what this client's raw writes invalidate.
   */
  readonly rawWriteTags: AsyncLocalStorage<readonly string[]>;
  /** What the elements of each batch `$transaction([...])` are invalidating, awaited before one rejects. */
  readonly batches: BatchInvalidations;
}

const WRITE_OPTION_KEYS: ReadonlySet<string> = new Set(["invalidates"]);

/** Builds the `query` component of the write side. */
export function writeQueryComponent(side: WriteSide) {
  const modelWrite = async (call: QueryCall): Promise<unknown> => {
    const { args, extraTags } = splitWriteOption(call.args);
    const model = call.model as string;
    const fluentPath = fluentPathOf(call);
    if (fluentPath.length > 0) return fluentWrite(side, call, model, args, extraTags, fluentPath);
    // Write-through never runs inside a transaction: its row is not committed yet.
    const pending =
      transactionOf(call) === undefined
        ? await side.writeThrough?.prepare(model, call.operation, args).catch(() => undefined)
        : undefined;
    const result = await whenWriteFails(side, call, call.query(args), () => [
      ...tagsOfWrite(side, model, call.operation, args, undefined),
      ...extraTags,
    ]);
    const bumped = await afterWrite(side, call, [
      ...tagsOfWrite(side, model, call.operation, args, result),
      ...extraTags,
    ]);
    await pending?.complete(result, bumped);
    return result;
  };
  const rawWrite = async (call: QueryCall): Promise<unknown> => {
    const tags = () => side.rawWriteTags.getStore() ?? everyModelTag(side.graph);
    const result = await whenWriteFails(side, call, call.query(call.args), tags);
    await afterWrite(side, call, tags());
    return result;
  };
  /**
   * Any other element of a batch (a read, a raw read) that fails waits for the invalidations its batch's writes
   * started (batch-invalidations.ts). Writes wait in whenWriteFails, once they started their own: this callback runs
   * inside theirs. Outside a batch it only passes the query on; Prisma copies the arguments of a call with a
   * callback, which did not show against a database read (uncached findUnique: 731 vs 718 us a call, same run).
   * The in-process hit path never reaches Prisma, so it does not pay it.
   */
  const otherOperation = (call: QueryCall): Promise<unknown> => {
    const transaction = transactionOf(call);
    if (transaction?.kind !== "batch" || isWrite(call)) return call.query(call.args);
    return call.query(call.args).catch(async (error: unknown) => {
      await side.batches.settled(transaction.id);
      throw error;
    });
  };
  const perModel = Object.fromEntries(WRITE_OPERATIONS.map((operation) => [operation, modelWrite]));
  return { $allModels: perModel, $executeRaw: rawWrite, $executeRawUnsafe: rawWrite, $allOperations: otherOperation };
}

/** Whether a query component call is one of the writes the callbacks above handle. */
function isWrite(call: QueryCall): boolean {
  return call.model === undefined ? RAW_WRITES.has(call.operation) : WRITE_OPERATION_SET.has(call.operation);
}

const RAW_WRITES: ReadonlySet<string> = new Set(["$executeRaw", "$executeRawUnsafe"]);
const WRITE_OPERATION_SET: ReadonlySet<string> = new Set(WRITE_OPERATIONS);

/**
 * A write reached through the fluent API (`update(...).posts()`): Prisma
 * passes the write with `select: { posts: true }` and resolves it to the
 * related rows, which say nothing of the row written. So the write runs
 * without the fluent path and with the primary key selected, its tags come
 * from the row it wrote, exactly as without the fluent call, and the caller
 * gets the related rows unpacked from it as Prisma would have.
 */
async function fluentWrite(
  side: WriteSide,
  call: QueryCall,
  model: string,
  args: unknown,
  extraTags: readonly string[],
  path: readonly string[],
): Promise<unknown> {
  const row = await whenWriteFails(
    side,
    call,
    queryWithoutFluentPath(call, withPrimaryKeySelected(side.graph, model, args)),
    () => [...tagsOfWrite(side, model, call.operation, args, undefined), ...extraTags],
  );
  await afterWrite(side, call, [...tagsOfWrite(side, model, call.operation, args, row), ...extraTags]);
  return unpackFluentPath(row, path);
}

/**
 * Awaits a write. When it fails in a way that leaves its outcome unknown (the
 * connection dropped after the server committed, say: writeMayHaveCommitted),
 * what it may have changed is invalidated before the error reaches the
 * caller, as after a success: the caller may retry or read at once, and an
 * extra invalidation costs a miss where a missing one would serve the
 * pre-write row until ttl. The tags are those of the write without its
 * result (rows not named by primary key count as unknown rows: `rs:`). Inside
 * an interactive transaction they join the transaction's tags and wait for
 * its commit, as a success's would.
 */
async function whenWriteFails<T>(
  side: WriteSide,
  call: QueryCall,
  write: Promise<T>,
  tagsIfCommitted: () => readonly string[],
): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (writeMayHaveCommitted(error)) await afterWrite(side, call, tagsIfCommitted());
    // Prisma's batch rejects with its first element: not before what its other write elements invalidate is done.
    const transaction = transactionOf(call);
    if (transaction?.kind === "batch") await side.batches.settled(transaction.id);
    throw error;
  }
}

/** `args` with the model's primary-key fields added to its top-level `select` (a fluent call always has one). */
function withPrimaryKeySelected(graph: SchemaGraph, model: string, args: unknown): unknown {
  const fields = graph.models.get(model)?.primaryKey?.fields;
  if (fields === undefined || typeof args !== "object" || args === null) return args;
  const select = (args as { select?: unknown }).select;
  if (typeof select !== "object" || select === null) return args;
  const withKey: Record<string, unknown> = { ...(select as Record<string, unknown>) };
  for (const field of fields) withKey[field] = true;
  return { ...args, select: withKey };
}

/** The tags a model write bumps; a derivation failure is reported and falls back to every model. */
function tagsOfWrite(side: WriteSide, model: string, operation: string, args: unknown, result: unknown): string[] {
  try {
    return writeTags(side.graph, model, operation, args, result);
  } catch (error) {
    // Never let a tag-derivation bug serve stale data: fall back to everything the model can reach.
    side.report(
      new CacheError(
        "E_INVALIDATION",
        `could not derive the tags of ${model}.${operation}; invalidating every model instead.`,
        error,
      ),
    );
    return everyModelTag(side.graph);
  }
}

/**
 * Invalidates now, or at the commit of the interactive transaction the write ran in. Returns the new versions when
 * bumped now.
 */
async function afterWrite(
  side: WriteSide,
  call: QueryCall,
  tags: readonly string[],
): Promise<ReadonlyMap<string, number> | undefined> {
  // At once, even inside a transaction: the scope's next read goes to the database (its commit invalidates again).
  side.requestScope.forget(tags);
  const transaction = transactionOf(call);
  if (transaction?.kind === "itx" && side.transactions.add(String(transaction.id), tags)) return undefined;
  const bumped = side.invalidator.invalidate(tags);
  return transaction?.kind === "batch" ? side.batches.track(transaction.id, bumped) : bumped;
}

/** Splits `cache: { invalidates }` off a write's arguments; Prisma must never see it. */
function splitWriteOption(args: unknown): { args: unknown; extraTags: readonly string[] } {
  if (typeof args !== "object" || args === null || !("cache" in args)) return { args, extraTags: [] };
  const { cache, ...rest } = args as { cache?: unknown };
  if (cache === undefined) return { args: rest, extraTags: [] };
  if (typeof cache !== "object" || cache === null || Array.isArray(cache)) {
    throw new CacheError(
      "E_INVALID_QUERY_OPTION",
      `\`cache\` on a write is ${JSON.stringify(cache)}. Use { invalidates: ["tag", ...] }.`,
    );
  }
  rejectUnknownKeys(cache, WRITE_OPTION_KEYS, "cache", "query");
  const invalidates = (cache as { invalidates?: readonly string[] }).invalidates;
  return { args: rest, extraTags: invalidates === undefined ? [] : validateTags(invalidates, "cache.invalidates") };
}

/** Every model's tags: what a write the library cannot analyse may have changed. */
export function everyModelTag(graph: SchemaGraph): string[] {
  const tags: string[] = [];
  for (const model of graph.models.values()) tags.push(...wholeModelTags(model));
  return [...new Set(tags)]; // a join table's tag comes from both of its models
}
