/**
 * Write-through (opt-in per model, `models: { User: { writeThrough: true } }`):
 * after an `update` that returns a full row, the cached primary-key lookup
 * of that row (`findUnique({ where: { id } })`) is stored with the returned
 * row instead of being left to the next read's miss.
 *
 * Without care this reopens the race that tag versions close (a concurrent
 * writer's newer row could be overwritten by ours). So the entry is stored
 * only when nothing else touched its tags between just before our write and
 * our own bump: the versions are captured before the write, and after it our
 * bump must have moved each bumped tag by exactly one and left the others
 * where they were. Any other writer's bump, before ours or after, then makes
 * the entry dead on arrival or kills it (docs/invalidation.md, "Write-through").
 *
 * Write-back (cache first, database later) is deliberately not offered: a
 * crash between the two loses writes the caller was told had succeeded.
 */
import type { QueryKey } from "../keys/query-key.js";
import { modelSettings, type ResolvedOptions } from "../options/resolve.js";
import type { VersionSource } from "../invalidation/version-source.js";
import type { CacheStack } from "../read/cache-stack.js";
import { storedTags } from "../read/query-tags.js";
import type { ReadPath } from "../read/read-path.js";
import type { SchemaGraph } from "../schema/schema-graph.js";
import { readTags } from "../tags/read-tags.js";
import { canonicalize } from "../keys/canonical.js";
import { isPlainObject } from "../tags/tag-names.js";

/** A write-through in progress: versions captured, waiting for the write's result. */
export interface PendingWriteThrough {
  /** Call after the write resolved and its tags were bumped (with the versions the bump returned). */
  complete(row: unknown, bumped: ReadonlyMap<string, number> | undefined): Promise<void>;
}

/** Prepares write-throughs for the models that enabled them. */
export class WriteThrough {
  readonly #graph: SchemaGraph;
  readonly #options: ResolvedOptions;
  readonly #readPath: ReadPath;
  readonly #stack: CacheStack;
  readonly #versions: VersionSource;

  constructor(
    graph: SchemaGraph,
    options: ResolvedOptions,
    readPath: ReadPath,
    stack: CacheStack,
    versions: VersionSource,
  ) {
    this.#graph = graph;
    this.#options = options;
    this.#readPath = readPath;
    this.#stack = stack;
    this.#versions = versions;
  }

  /**
   * Starts a write-through for a single-row `update` of a model with
   * `writeThrough`, whose arguments name the row by primary key and ask for
   * the full row (no `select`, `include` or `omit`). Undefined otherwise.
   */
  async prepare(model: string, operation: string, args: unknown): Promise<PendingWriteThrough | undefined> {
    if (operation !== "update" || !modelSettings(this.#options, model).writeThrough) return undefined;
    if (!isPlainObject(args) || "select" in args || "include" in args || "omit" in args) return undefined;
    const lookup = this.#primaryKeyWhere(model, args.where);
    if (lookup === undefined) return undefined;
    const key = this.#readPath.keyOf(model, "findUnique", { where: lookup });
    if (key === undefined) return undefined;
    const tags = storedTags(key, readTags(this.#graph, model, "findUnique", { where: lookup }));
    let captured: number[];
    try {
      captured = await this.#read(tags);
    } catch {
      return undefined; // Redis is unavailable: the write goes on, the next read simply misses.
    }
    return {
      // The write has committed: nothing here may fail it. A failure only means no write-through.
      complete: (row, bumped) => this.#complete(model, key, lookup, tags, captured, row, bumped).catch(() => undefined),
    };
  }

  async #complete(
    model: string,
    key: QueryKey,
    lookup: Record<string, unknown>,
    tags: string[],
    captured: number[],
    row: unknown,
    bumped: ReadonlyMap<string, number> | undefined,
  ): Promise<void> {
    if (bumped === undefined || !isPlainObject(row)) return;
    // The row must still be the one the lookup names (an update can change its primary key).
    const rowLookup = this.#primaryKeyWhere(model, row);
    if (rowLookup === undefined || canonicalize(rowLookup) !== canonicalize(lookup)) return;
    const untouched = tags.filter((tag) => !bumped.has(tag));
    let current: number[];
    try {
      current = await this.#read(untouched);
    } catch {
      return;
    }
    const versions: number[] = [];
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as string;
      const after = bumped.get(tag);
      const expected = after === undefined ? captured[i] : (captured[i] as number) + 1;
      const actual = after ?? current[untouched.indexOf(tag)];
      if (actual !== expected) return; // Someone else wrote in between: leave it to the next read.
      versions.push(actual as number);
    }
    const settings = modelSettings(this.#options, model);
    this.#stack.store(key, tags, versions, settings, row);
  }

  async #read(tags: readonly string[]): Promise<number[]> {
    if (tags.length === 0) return [];
    return this.#versions.readLocal(tags) ?? (await this.#versions.store.read(tags)).versions;
  }

  /**
   * `{ id: 5 }` or `{ userId_groupId: { userId, groupId } }` from a where or a row, when it holds the whole primary
   * key.
   */
  #primaryKeyWhere(model: string, source: unknown): Record<string, unknown> | undefined {
    const key = this.#graph.models.get(model)?.primaryKey;
    if (key === undefined || !isPlainObject(source)) return undefined;
    if (key.fields.length === 1) {
      const field = key.fields[0] as string;
      const value = source[field];
      return typeof value === "number" || typeof value === "string" || typeof value === "bigint"
        ? { [field]: value }
        : undefined;
    }
    const compound = isPlainObject(source[key.whereName]) ? (source[key.whereName] as Record<string, unknown>) : source;
    const values: Record<string, unknown> = {};
    for (const field of key.fields) {
      const value = compound[field];
      if (typeof value !== "number" && typeof value !== "string" && typeof value !== "bigint") return undefined;
      values[field] = value;
    }
    return { [key.whereName]: values };
  }
}
