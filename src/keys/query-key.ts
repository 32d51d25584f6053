/**
 * The key of one cached read. Built from model, operation, canonical
 * arguments and every context dimension; the in-process tier uses the
 * canonical text itself (no hashing on the hot path, no collisions possible),
 * the shared tier a hash of it under a versioned, schema-scoped name.
 */
import { canonicalize, canonicalizeArgs } from "./canonical.js";
import { hashKey } from "./hash.js";

/**
 * Version of the key and entry format. Bump it when either changes shape, so
 * instances running an older release never read entries they cannot decode
 * (3: `select`/`include` and aggregate selections keep their key order; 4: type annotations folded once per
 * shape, serialize/compact-meta.ts; 5: query results in tagged JSON, serialize/tagged-json.ts).
 */
export const KEY_FORMAT_VERSION = 5;

/** The Redis side of a key: its name, the fingerprint stored in the entry, and the 128-bit id both derive from. */
export interface SharedKey {
  readonly name: string;
  readonly fingerprint: string;
  readonly id: string;
}

/** The two names of one cached read. */
export interface QueryKey {
  /** Canonical text: the in-process tier's key, and what the Redis name hashes. */
  readonly local: string;
  /** Lazily computed Redis names; the in-process hit path never pays for the hash. */
  shared(): SharedKey;
}

/**
 * Builds the key of a read. `namespace` is `${prefix}v${KEY_FORMAT_VERSION}:${dataModelHash}:`
 * (see {@link sharedNamespace}); `context` is the resolved context, or undefined.
 * A top-level `cache` option in `args` is not part of the key; the custom
 * tags it names are (`customTags`), since they change what the entry depends on.
 */
export function queryKey(
  namespace: string,
  model: string,
  operation: string,
  args: Record<string, unknown> | undefined,
  context: Record<string, unknown> | undefined,
  customTags?: readonly string[],
): QueryKey {
  // Model and operation names are identifiers (no separator can occur in them),
  // and the canonical texts are self-delimiting, so this join is unambiguous.
  let local = `${model}|${operation}|${canonicalizeArgs(args, operation === "aggregate" || operation === "groupBy")}|${context === undefined ? "" : canonicalize(context)}`;
  if (customTags !== undefined) local += `|${canonicalize([...customTags].sort())}`;
  return new LazyQueryKey(namespace, model, operation, local);
}

/** One object per read; the Redis names are hashed on first use only. */
class LazyQueryKey implements QueryKey {
  #shared: SharedKey | undefined;

  constructor(
    private readonly namespace: string,
    private readonly model: string,
    private readonly operation: string,
    readonly local: string,
  ) {}

  shared(): SharedKey {
    if (this.#shared === undefined) {
      const { id, fingerprint } = hashKey(this.namespace + this.local);
      this.#shared = { name: `${this.namespace}${this.model}:${this.operation}:${id}`, fingerprint, id };
    }
    return this.#shared;
  }
}

/** The part of every Redis key name shared by one deployment: prefix, format version, data-model hash. */
export function sharedNamespace(prefix: string, dataModelHash: string): string {
  return `${prefix}v${KEY_FORMAT_VERSION}:${dataModelHash}:`;
}

/**
 * A JSON string (kept when it is an object key, i.e. followed by `:`), a tagged value (`#d:...`), a number, or a
 * literal.
 */
const VALUE_TOKEN =
  /"(?:[^"\\]|\\.)*"(:?)|#[a-z]:[^,}\]|]*|(?<![\w#])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\b(?:true|false|null)\b/g;

/**
 * The shape of a key's local text: model, operation and the structure of the
 * arguments and context, with every value replaced by `?` and a list of
 * values collapsed to one `?`. Reads of one query shape (say `findUnique` by
 * `id`) share it, whatever their values, so a report about the shape is made
 * once rather than once per key; it never carries argument values.
 */
export function keyShape(local: string): string {
  return local
    .replace(VALUE_TOKEN, (token: string, colon: string | undefined) => (colon === ":" ? token : "?"))
    .replace(/\?(?:,\?)+/g, "?");
}
