/**
 * What an event trigger says (trigger-sql.ts writes it, the listener reads
 * it) and the tags it stands for: the same tags a write through the client
 * bumps for the same change (tags/write-tags.ts), so reads need nothing new.
 *
 * | payload                                   | tags                       |
 * |-------------------------------------------|----------------------------|
 * | `{"v":1,"m":"User","k":[["1"],["7"]]}`    | `m:User`, `r:User:<1>`, `r:User:<7>` |
 * | `{"v":1,"m":"User"}` (too many rows)      | `m:User`, `rs:User`        |
 * | `{"v":1,"j":"PostToTag"}`                 | `j:PostToTag`              |
 *
 * Cascades need no graph walk here: the database runs a cascade as
 * statements on the referencing tables, which fire their own triggers.
 */
import { CacheError } from "../errors.js";
import type { SchemaGraph, SchemaModel } from "../schema/schema-graph.js";
import { joinTableTag, modelTag, primaryKeyTag, rowsTag } from "../tags/tag-names.js";

/** The channel both the triggers and the listener use unless told otherwise. */
export const DEFAULT_EVENTS_CHANNEL = "prisma_query_cache";

/** Bumped when the payload's shape changes; a listener treats a version it does not know as "everything changed". */
export const EVENTS_PAYLOAD_VERSION = 1;

/** Postgres refuses a `pg_notify` payload of 8,000 bytes or more (the default build's limit). */
export const MAX_PAYLOAD_BYTES = 7999;

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** Returns `channel` when it is a plain lower-case identifier, else throws `E_INVALID_OPTION` naming `option`. */
export function validateChannel(channel: unknown, option: string): string {
  if (typeof channel === "string" && CHANNEL.test(channel)) return channel;
  throw new CacheError(
    "E_INVALID_OPTION",
    `events: ${option} is ${JSON.stringify(channel)}; use lower-case letters, digits and "_", starting with a letter or "_", at most 63 characters (e.g. "${DEFAULT_EVENTS_CHANNEL}"), the same in the triggers and the listener.`,
  );
}

/** What one notification means: the tags to bump, or that it could not be read (then everything listened is). */
export type EventMeaning = { readonly tags: string[] } | { readonly unreadable: string };

/** The tags a notification from the event triggers stands for. */
export function tagsOfPayload(graph: SchemaGraph, payload: string): EventMeaning {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return { unreadable: "not JSON" };
  }
  if (typeof message !== "object" || message === null) return { unreadable: "not an object" };
  const { v, m, j, k } = message as Record<string, unknown>;
  if (v !== EVENTS_PAYLOAD_VERSION) return { unreadable: `payload version ${JSON.stringify(v)}` };
  if (typeof j === "string") return { tags: [joinTableTag(j)] };
  if (typeof m !== "string") return { unreadable: "neither a model nor a join table" };
  const model = graph.models.get(m);
  // A model this client does not know (a newer schema's triggers): none of its reads are cached here.
  if (model === undefined) return { tags: [modelTag(m), rowsTag(m)] };
  if (k === undefined) return { tags: [modelTag(m), rowsTag(m)] };
  if (!Array.isArray(k)) return { unreadable: "keys are not a list" };
  const tags = new Set([modelTag(m)]);
  for (const key of k) {
    const tag = Array.isArray(key) ? recordTagOfKey(model, key) : undefined;
    // A key that cannot be read still names a row of the model: all of them, then.
    if (tag === undefined) return { tags: [modelTag(m), rowsTag(m)] };
    tags.add(tag);
  }
  return { tags: [...tags] };
}

/** The record tag of a key whose values came through Postgres as text, converted back to what Prisma returns. */
function recordTagOfKey(model: SchemaModel, key: readonly unknown[]): string | undefined {
  const fields = model.primaryKey?.fields ?? [];
  if (key.length !== fields.length) return undefined;
  const values: unknown[] = [];
  for (let i = 0; i < key.length; i++) {
    const text = key[i];
    const field = fields[i] as string;
    if (typeof text !== "string") return undefined;
    switch (model.primaryKey?.keyKinds[i]) {
      case "integer":
        if (!/^-?\d+$/.test(text)) return undefined;
        values.push(BigInt(text));
        break;
      case "exact": {
        const type = model.scalarTypes.get(field);
        values.push(type === "Boolean" ? text === "true" : type === "Bytes" ? Buffer.from(text, "hex") : text);
        break;
      }
      default:
        values.push(text);
    }
  }
  return primaryKeyTag(model, values);
}
