/**
 * Names of dependency tags (see docs/invalidation.md, "Which tags"):
 *
 * | tag            | covers                                         |
 * |----------------|------------------------------------------------|
 * | `m:Model`      | any row of the model                           |
 * | `r:Model:<h>`  | the row whose primary key hashes to `<h>`      |
 * | `rs:Model`     | all rows of the model, individually            |
 * | `j:Relation`   | the join table of an implicit many-to-many     |
 *
 * plus the caller's own tags, which may not use those prefixes.
 *
 * A read and the write that must evict it derive a record tag from values
 * written differently (`{ id: 5 }` in a `where`, `5n` in a BigInt row the
 * database returns, an upper-case UUID typed by a user). The key values are
 * therefore normalised by the field's {@link KeyKind} before hashing, so both
 * sides name the same tag; keys the database compares inexactly get no record
 * tag at all.
 */
import { CacheError } from "../errors.js";
import { canonicalize } from "../keys/canonical.js";
import { shortHash } from "../keys/hash.js";
import type { KeyKind, SchemaModel } from "../schema/schema-graph.js";

/** The prefixes of the library's own tags; custom tags may not start with them. */
export const RESERVED_TAG_PREFIXES: readonly string[] = ["m:", "r:", "rs:", "j:", "q:"];

/** The longest custom tag accepted, in UTF-16 code units (it becomes part of a Redis key name). */
export const MAX_TAG_LENGTH = 200;

/** `m:Model`: any row of the model. Bumped by every write to the model. */
export function modelTag(model: string): string {
  return `m:${model}`;
}

/** `rs:Model`: every row of the model, individually. Bumped by writes whose primary keys are not known. */
export function rowsTag(model: string): string {
  return `rs:${model}`;
}

/**
 * `j:Relation`: the join table of an implicit many-to-many relation (`_PostToTag`), named by the relation's name,
 * which both sides share. Bumped by `connect`, `disconnect` and `set` on the relation, which change no row of either
 * model; depended on by every read that reaches the relation, and by values declared to depend on either model
 * ({@link wholeModelTags}).
 */
export function joinTableTag(relationName: string): string {
  return `j:${relationName}`;
}

/**
 * The tags that stand for a whole model where a caller names one (`models` of `invalidate`, `rawWrites`,
 * `getOrSet` and `queryRaw`): `m:`, `rs:`, and the `j:` tags of its implicit many-to-many relations, whose links
 * no row of the model holds. A value declared to depend on `Post` and `Tag` is then killed by a `connect` between
 * them too.
 */
export function wholeModelTags(model: SchemaModel): string[] {
  const tags = [modelTag(model.name), rowsTag(model.name)];
  for (const relation of model.relations.values())
    if (relation.implicitManyToMany) tags.push(joinTableTag(relation.relationName));
  return tags;
}

/**
 * `r:Model:<hash>`: the row with this primary key. The values are hashed so
 * that no key value (an e-mail address, say) ever appears in a Redis key name.
 * Pass values already normalised ({@link primaryKeyTag} does); `pkValues` are
 * in the order of the primary key's fields.
 */
export function recordTag(model: string, pkValues: readonly unknown[]): string {
  return `r:${model}:${shortHash(canonicalize(pkValues))}`;
}

/**
 * The record tag of the row whose primary-key values are `values` (in key
 * field order), normalised so a `where` and a returned row agree; `undefined`
 * when the model has no primary key, a key field compares inexactly in the
 * database, or a value is not a plain key value (a filter object, `null`, a
 * fraction for an Int...).
 */
export function primaryKeyTag(model: SchemaModel, values: readonly unknown[]): string | undefined {
  const key = model.primaryKey;
  if (key === undefined || values.length !== key.fields.length) return undefined;
  const normalised: unknown[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = normaliseKeyValue(key.keyKinds[i] ?? "inexact", values[i]);
    if (value === undefined) return undefined;
    normalised.push(value);
  }
  return recordTag(model.name, normalised);
}

/**
 * The record tag named by a unique `where` (`findUnique`, `update`, `delete`,
 * `upsert`), when it identifies the row by its primary key with plain values:
 * `{ id: 5 }` or `{ userId_groupId: { userId: 1, groupId: 2 } }`. Other
 * properties beside the key (extra filters Prisma allows in a unique `where`)
 * do not matter: the result is still that row or nothing. A filter object on
 * a key field (`{ id: { equals: 5 } }`) is not treated as a key.
 */
export function recordTagFromWhere(model: SchemaModel, where: unknown): string | undefined {
  const key = model.primaryKey;
  if (key === undefined || !isPlainObject(where)) return undefined;
  if (key.fields.length === 1) return primaryKeyTag(model, [where[key.fields[0] as string]]);
  const compound = where[key.whereName];
  if (!isPlainObject(compound)) return undefined;
  return primaryKeyTag(
    model,
    key.fields.map((field) => compound[field]),
  );
}

/** The record tag of a row a write returned, when it holds every primary-key field. */
export function recordTagFromRow(model: SchemaModel, row: unknown): string | undefined {
  const key = model.primaryKey;
  if (key === undefined || !isPlainObject(row)) return undefined;
  return primaryKeyTag(
    model,
    key.fields.map((field) => row[field]),
  );
}

/**
 * One key value in the form both sides of the cache agree on, or `undefined`
 * when it cannot name a row exactly.
 */
function normaliseKeyValue(kind: KeyKind, value: unknown): unknown {
  switch (kind) {
    case "integer":
      // Prisma accepts a number for a BigInt field and returns a bigint; an Int may be passed as a bigint.
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
      return undefined;
    case "uuid":
      // Postgres reads `{A0EEBC99-...}`, `a0eebc99...` (no hyphens) and the canonical form as one value.
      return typeof value === "string" ? value.toLowerCase().replace(/[-{}]/g, "") : undefined;
    case "exact":
      if (typeof value === "string" || typeof value === "boolean") return value;
      // Bytes: canonicalize encodes any Uint8Array (Buffer included) by its bytes.
      if (value instanceof Uint8Array) return value;
      return undefined;
    case "inexact":
      return undefined;
  }
}

/** A plain object (not an array, a Date, a Decimal or a Prisma sentinel). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * True when `tag` may be used as a custom tag: a non-empty string of at most
 * {@link MAX_TAG_LENGTH} characters, without whitespace, control characters
 * or lone surrogates (tags become Redis key names, and a lone surrogate would
 * be encoded as U+FFFD, merging distinct tags), not starting with a reserved
 * prefix (`m:`, `r:`, `rs:`, `j:`, `q:`).
 */
export function isValidCustomTag(tag: unknown): tag is string {
  return tagProblem(tag) === undefined;
}

/**
 * Returns `tag` when it is a valid custom tag (see {@link isValidCustomTag}),
 * else throws `CacheError` `E_INVALID_TAG` naming `where` (the option or call
 * that carried it, e.g. "cache.tags" or "$cache.invalidate") and the problem.
 */
export function validateTag(tag: unknown, where: string): string {
  const problem = tagProblem(tag);
  if (problem === undefined) return tag as string;
  throw new CacheError("E_INVALID_TAG", `${where}: tag ${describe(tag)} ${problem}.`);
}

/**
 * Validates a list of custom tags (from `cache: { tags }`, `cache: { invalidates }`
 * or the tag API), throwing `E_INVALID_TAG` for the first bad one.
 */
export function validateTags(tags: unknown, where: string): string[] {
  if (!Array.isArray(tags))
    throw new CacheError(
      "E_INVALID_TAG",
      `${where} must be an array of tags, such as ["ranking"]; got ${describe(tags)}.`,
    );
  return tags.map((tag, i) => validateTag(tag, `${where}[${i}]`));
}

const FORBIDDEN_CHARACTERS = /[\s\p{Cc}\p{Cs}]/u;

function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== "string") return 'is not a string. Use a non-empty string such as "user:42"';
  if (tag.length === 0) return 'is empty. Use a non-empty string such as "user:42"';
  if (tag.length > MAX_TAG_LENGTH)
    return `is ${tag.length} characters long; the maximum is ${MAX_TAG_LENGTH}. Use a shorter tag (hash long values)`;
  if (FORBIDDEN_CHARACTERS.test(tag))
    return "contains whitespace, a control character or a lone surrogate. Remove it (tags become Redis key names)";
  const reserved = RESERVED_TAG_PREFIXES.find((prefix) => tag.startsWith(prefix));
  if (reserved !== undefined)
    return `starts with "${reserved}", which is reserved for the library's own tags (${RESERVED_TAG_PREFIXES.join(", ")}). Use another prefix, e.g. "app:"`;
  return undefined;
}

function describe(tag: unknown): string {
  if (typeof tag !== "string") return tag === null ? "null" : typeof tag;
  // Long tags are cut so that a runaway value does not flood the error message.
  return JSON.stringify(tag.length > 60 ? `${tag.slice(0, 60)}...` : tag);
}
