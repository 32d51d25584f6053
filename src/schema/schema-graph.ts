/**
 * The data model as a graph: models, their keys, and the relations between
 * them with their referential actions, parsed from the Prisma schema text.
 *
 * Invalidation needs facts the client's runtime data model does not carry:
 * which side of a relation holds the foreign key, `onDelete`/`onUpdate`
 * (explicit or Prisma's defaults), compound key input names. Prisma 7 keeps
 * the full schema source in the client (`_engineConfig.inlineSchema`), so we
 * parse that, once, at start-up. The parser is a small tokenizer plus a
 * recursive-descent reader of blocks, fields and attribute arguments: enough
 * of the Prisma Schema Language to read what matters here, strict where a
 * misreading could lose an invalidation (braces, field lines, `@relation`,
 * `@id`, `@unique`), lenient elsewhere (unknown attributes are skipped).
 *
 * Pure: no I/O, no dependencies besides the library's error class.
 */
import { CacheError } from "../errors.js";

/** What the database does to referencing rows when a referenced row is deleted or its key changes. */
export type ReferentialAction = "Cascade" | "SetNull" | "Restrict" | "NoAction" | "SetDefault";

/**
 * How values of one primary-key field compare in the database, which decides
 * whether a record-level tag can be derived from them:
 * - `integer`: Int/BigInt. `5`, `5n` (as a caller may pass) and `5n` (as a
 *   BigInt column comes back) are one key, so values are normalised to bigint.
 * - `uuid`: a UUID / ObjectId string. The database parses it case-insensitively
 *   (Postgres also accepts braces and missing hyphens), so it is normalised to
 *   lower-case hex.
 * - `exact`: the database compares the value byte for byte (String on
 *   Postgres/SQLite/CockroachDB/MongoDB without a special native type, Boolean,
 *   enums, Bytes).
 * - `inexact`: the database may match a value that is not byte-identical
 *   (String on MySQL or SQL Server, whose default collations are
 *   case-insensitive; `@db.Citext`, `@db.Char`; DateTime, Decimal, Float...).
 *   A key with such a field gets no record-level tags: reads by it depend on
 *   the model tag, which every write bumps.
 */
export type KeyKind = "integer" | "uuid" | "exact" | "inexact";

/** A primary key or unique constraint, and the name its input has in a `findUnique` `where`. */
export interface UniqueKey {
  /** The scalar fields, in declaration order. */
  readonly fields: readonly string[];
  /**
   * The `where` input name: the field itself for a single field, else the
   * constraint's `name:` or the fields joined by `_` (`userId_groupId`).
   */
  readonly whereName: string;
}

/** The primary key of a model. */
export interface PrimaryKey extends UniqueKey {
  /** How each field's values compare, aligned with `fields`; see {@link KeyKind}. */
  readonly keyKinds: readonly KeyKind[];
}

/** One relation field of a model. */
export interface RelationField {
  /** The field name (`author`). */
  readonly name: string;
  /** The related model (`User`). */
  readonly target: string;
  /** A list relation (`posts Post[]`). */
  readonly list: boolean;
  /** An optional to-one relation (`author User?`). */
  readonly optional: boolean;
  /** `@relation("Name")`, or Prisma's default: the two model names sorted and joined by `To` (`PostToUser`). */
  readonly relationName: string;
  /** This side declares `fields: [...]`: its model holds the foreign key. */
  readonly holdsForeignKey: boolean;
  /** The foreign-key scalar fields on this model; empty on the other side. */
  readonly fields: readonly string[];
  /** The referenced fields on the target model; empty on the other side. */
  readonly references: readonly string[];
  /**
   * What the database does to the foreign-key side when the referenced row is
   * deleted. Copied from the foreign-key side onto the other side, so both
   * know. `Cascade` for an implicit many-to-many (Prisma's join table cascades).
   */
  readonly onDelete: ReferentialAction;
  /** As `onDelete`, when the referenced key changes. */
  readonly onUpdate: ReferentialAction;
  /** Both sides are lists and neither holds a foreign key: Prisma keeps the links in a hidden join table. */
  readonly implicitManyToMany: boolean;
}

/** One model (or view) of the schema. */
export interface SchemaModel {
  /** The model name as the client uses it (`User`). */
  readonly name: string;
  /** Every field that is not a relation: scalars, enums, composite types, `Unsupported`. */
  readonly scalarFields: ReadonlySet<string>;
  /** `@id` or `@@id`; `undefined` for models and views keyed only by `@unique`. */
  readonly primaryKey: PrimaryKey | undefined;
  /** `@unique` and `@@unique` constraints, in declaration order. */
  readonly uniques: readonly UniqueKey[];
  /** Relation fields by field name. */
  readonly relations: ReadonlyMap<string, RelationField>;
  /**
   * True when a field carries `@updatedAt`: Prisma may then write the row on an `update` whose data names no field
   * of it (only relations whose foreign keys live elsewhere), so such an update still counts as changing the row.
   */
  readonly hasUpdatedAt: boolean;
  /** Declared with `view`, not `model`: a database view, on which no row-level change can be observed. */
  readonly isView: boolean;
  /** The table (or view) in the database: `@@map("name")`, else the model name. */
  readonly dbName: string;
  /** The database schema named by `@@schema("name")` (multi-schema), else `undefined` (the connection's default). */
  readonly dbSchema: string | undefined;
  /** The column of each scalar field: `@map("name")`, else the field name. */
  readonly columns: ReadonlyMap<string, string>;
  /** The type of each scalar field as written in the schema (`Int`, `String`, `Bytes`, an enum's name...). */
  readonly scalarTypes: ReadonlyMap<string, string>;
}

/** The parsed data model. */
export interface SchemaGraph {
  /** Models and views by name. */
  readonly models: ReadonlyMap<string, SchemaModel>;
  /** The datasource `provider` (`postgresql`, `mysql`, ...), or `undefined` when the text has none. */
  readonly provider: string | undefined;
}

const REFERENTIAL_ACTIONS: ReadonlySet<string> = new Set<ReferentialAction>([
  "Cascade",
  "SetNull",
  "Restrict",
  "NoAction",
  "SetDefault",
]);

/**
 * Parses the Prisma schema source text into a {@link SchemaGraph}.
 *
 * Reads `model` and `view` blocks (views like models), the datasource
 * `provider`, and skips `enum`, `type`, `generator` and comments. Throws an
 * `Error` naming the line for text it cannot read: unbalanced braces,
 * brackets or parentheses, an unterminated string, a field line without a
 * type, a malformed `@relation`, an unknown referential action.
 */
export function parseSchemaGraph(schemaText: string): SchemaGraph {
  const blocks = readBlocks(tokenize(schemaText));
  const modelBlocks = blocks.filter((block) => block.keyword === "model" || block.keyword === "view");
  const modelNames = new Set(modelBlocks.map((block) => block.name));
  let provider: string | undefined;
  for (const block of blocks) if (block.keyword === "datasource") provider ??= readProvider(block);

  const drafts = modelBlocks.map((block) => readModel(block, modelNames, provider));
  return { models: resolveRelations(drafts), provider };
}

/** The relation on the other side of `relation` (same relation name, pointing back), if the schema declares it. */
export function oppositeRelation(
  graph: SchemaGraph,
  model: string,
  relation: RelationField,
): RelationField | undefined {
  const target = graph.models.get(relation.target);
  if (target === undefined) return undefined;
  for (const candidate of target.relations.values()) {
    // A self relation has both sides in one model: skip the field itself.
    if (
      candidate.relationName === relation.relationName &&
      candidate.target === model &&
      !(relation.target === model && candidate.name === relation.name)
    ) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * The fields of `model` that other rows point at: the `references` of every
 * foreign key targeting it, and its primary key when an implicit
 * many-to-many join table does. Changing one of these can make the database
 * change other rows (`onUpdate`).
 */
export function referencedFields(graph: SchemaGraph, model: string): ReadonlySet<string> {
  const fields = new Set<string>();
  for (const incoming of indexOf(graph).incoming.get(model) ?? [])
    for (const field of incoming.relation.references) fields.add(field);
  const own = graph.models.get(model);
  if (own?.primaryKey !== undefined) {
    for (const relation of own.relations.values()) {
      if (relation.implicitManyToMany) for (const field of own.primaryKey.fields) fields.add(field);
    }
  }
  return fields;
}

/**
 * The models whose rows the database itself may change when rows of `model`
 * are deleted (`kind` "delete") or when their referenced key values change
 * (`kind` "update"; `changedFields` narrows which fields changed, default:
 * every referenced field). Followed transitively: a `Cascade` delete of a
 * User then applies User's own delete actions; a `SetNull`/`SetDefault`
 * changes foreign-key fields, which matters again only if those are
 * referenced. `Restrict`/`NoAction` change nothing (the statement fails).
 *
 * Includes `model` itself when a self relation reaches it (User.manager,
 * `SetNull`). An implicit many-to-many reaches the model on the other side:
 * deleting a row deletes its join rows, which changes what the other side's
 * relation returns.
 */
export function referentialReach(
  graph: SchemaGraph,
  model: string,
  kind: "delete" | "update",
  changedFields?: Iterable<string>,
): ReadonlySet<string> {
  const useMemo = changedFields === undefined;
  const memoKey = `${kind}\u0000${model}`;
  const index = indexOf(graph);
  if (useMemo) {
    const hit = index.reach.get(memoKey);
    if (hit !== undefined) return hit;
  }

  const reach = new Set<string>();
  const deleted = new Set<string>();
  const updated = new Set<string>(); // "Model\0field" pairs already followed

  const onDelete = (name: string): void => {
    if (deleted.has(name)) return;
    deleted.add(name);
    for (const { model: referencing, relation } of index.incoming.get(name) ?? []) {
      if (relation.onDelete === "Cascade") {
        reach.add(referencing);
        onDelete(referencing);
      } else if (relation.onDelete === "SetNull" || relation.onDelete === "SetDefault") {
        reach.add(referencing);
        onUpdate(referencing, relation.fields);
      }
    }
    // The join rows of an implicit many-to-many go with the row.
    for (const relation of graph.models.get(name)?.relations.values() ?? [])
      if (relation.implicitManyToMany) reach.add(relation.target);
  };

  const onUpdate = (name: string, fields: Iterable<string>): void => {
    const fresh = new Set<string>();
    for (const field of fields) {
      const key = `${name}\u0000${field}`;
      if (updated.has(key)) continue;
      updated.add(key);
      fresh.add(field);
    }
    if (fresh.size === 0) return;
    for (const { model: referencing, relation } of index.incoming.get(name) ?? []) {
      if (!relation.references.some((field) => fresh.has(field))) continue;
      if (relation.onUpdate === "Cascade" || relation.onUpdate === "SetNull" || relation.onUpdate === "SetDefault") {
        reach.add(referencing);
        onUpdate(referencing, relation.fields);
      }
    }
    // Prisma's implicit join tables reference the primary key with ON UPDATE CASCADE.
    const own = graph.models.get(name);
    if (own?.primaryKey !== undefined && own.primaryKey.fields.some((field) => fresh.has(field))) {
      for (const relation of own.relations.values()) if (relation.implicitManyToMany) reach.add(relation.target);
    }
  };

  if (kind === "delete") onDelete(model);
  else onUpdate(model, changedFields ?? referencedFields(graph, model));

  if (useMemo) index.reach.set(memoKey, reach);
  return reach;
}

// ---------------------------------------------------------------------------
// Per-graph index, built lazily: which foreign keys point at each model.

interface IncomingRelation {
  readonly model: string;
  readonly relation: RelationField;
}

interface GraphIndex {
  readonly incoming: ReadonlyMap<string, readonly IncomingRelation[]>;
  /** referentialReach results for the default `changedFields`; the graph is immutable, so they never go stale. */
  readonly reach: Map<string, ReadonlySet<string>>;
}

const indexes = new WeakMap<SchemaGraph, GraphIndex>();

function indexOf(graph: SchemaGraph): GraphIndex {
  let index = indexes.get(graph);
  if (index === undefined) {
    const incoming = new Map<string, IncomingRelation[]>();
    for (const model of graph.models.values()) {
      for (const relation of model.relations.values()) {
        if (!relation.holdsForeignKey) continue;
        let list = incoming.get(relation.target);
        if (list === undefined) incoming.set(relation.target, (list = []));
        list.push({ model: model.name, relation });
      }
    }
    index = { incoming, reach: new Map() };
    indexes.set(graph, index);
  }
  return index;
}

// ---------------------------------------------------------------------------
// Tokenizer

type TokenKind = "word" | "string" | "punct" | "newline";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
}

/** Characters that form words: identifiers, numbers (`-1`, `1.5`), and dotted native types (`db.VarChar`). */
const WORD_CHAR = /[\p{L}\p{N}_.\-+]/u;
const PUNCT = new Set(["{", "}", "(", ")", "[", "]", ",", ":", "=", "?", "!"]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === "\n") {
      tokens.push({ kind: "newline", text: "\n", line });
      line++;
      i++;
    } else if (char === " " || char === "\t" || char === "\r" || char === "\uFEFF") {
      i++;
    } else if (char === "/" && text[i + 1] === "/") {
      // `//` and `///` comments run to the end of the line.
      while (i < text.length && text[i] !== "\n") i++;
    } else if (char === '"') {
      const start = line;
      let value = "";
      i++;
      for (;;) {
        const c = text[i];
        if (c === undefined || c === "\n") throw parseError(start, "unterminated string");
        i++;
        if (c === '"') break;
        if (c === "\\") {
          value += text[i] ?? "";
          i++;
        } else {
          value += c;
        }
      }
      tokens.push({ kind: "string", text: value, line: start });
    } else if (char === "@") {
      const double = text[i + 1] === "@";
      tokens.push({ kind: "punct", text: double ? "@@" : "@", line });
      i += double ? 2 : 1;
    } else if (PUNCT.has(char)) {
      tokens.push({ kind: "punct", text: char, line });
      i++;
    } else if (WORD_CHAR.test(char)) {
      let end = i + 1;
      while (end < text.length && WORD_CHAR.test(text[end] as string)) end++;
      tokens.push({ kind: "word", text: text.slice(i, end), line });
      i = end;
    } else {
      // Anything else cannot be part of a valid schema we know how to read; guessing could drop a relation.
      throw parseError(line, `unexpected character ${JSON.stringify(char)}`);
    }
  }
  return tokens;
}

/**
 * A schema this parser cannot read. The text is the one Prisma carries in the
 * client (prisma/internals.ts), so Prisma wrote or accepted it: a failure here
 * means the library does not know a form of the schema language it uses.
 */
function parseError(line: number, problem: string): CacheError {
  return new CacheError(
    "E_PRISMA_INTERNALS",
    `cannot parse the Prisma schema (line ${line}): ${problem}. Dependency tags are derived from it; please report this with that line of your schema.`,
  );
}

// ---------------------------------------------------------------------------
// Blocks and statements

interface Block {
  readonly keyword: string;
  readonly name: string;
  readonly line: number;
  /** The block's statements: one per line, joined across lines while brackets or parentheses are open. */
  readonly statements: readonly (readonly Token[])[];
}

const BLOCK_KEYWORDS = new Set(["model", "view", "enum", "type", "generator", "datasource"]);

function readBlocks(tokens: readonly Token[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i] as Token;
    if (token.kind === "newline") {
      i++;
      continue;
    }
    if (token.kind === "punct" && token.text === "}")
      throw parseError(token.line, "unbalanced braces: `}` without a block to close");
    if (token.kind !== "word" || !BLOCK_KEYWORDS.has(token.text)) {
      throw parseError(
        token.line,
        `expected a block (model, view, enum, type, generator, datasource), found ${JSON.stringify(token.text)}`,
      );
    }
    const name = tokens[i + 1];
    if (name?.kind !== "word") throw parseError(token.line, `\`${token.text}\` without a name`);
    i += 2;
    while (tokens[i]?.kind === "newline") i++;
    if (tokens[i]?.text !== "{") throw parseError(token.line, `expected \`{\` after \`${token.text} ${name.text}\``);
    i++;

    const statements: Token[][] = [];
    let current: Token[] = [];
    let depth = 0; // ( and [ nesting, so that a statement may span lines
    let closed = false;
    for (; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      if (t.kind === "punct" && t.text === "{")
        throw parseError(t.line, `unbalanced braces: \`{\` inside \`${token.text} ${name.text}\``);
      if (t.kind === "punct" && t.text === "}") {
        if (depth !== 0) throw parseError(t.line, "unbalanced brackets or parentheses before `}`");
        closed = true;
        i++;
        break;
      }
      if (t.kind === "newline" && depth === 0) {
        if (current.length > 0) statements.push(current);
        current = [];
        continue;
      }
      if (t.kind === "newline") continue;
      if (t.text === "(" || t.text === "[") depth++;
      if (t.text === ")" || t.text === "]") {
        depth--;
        if (depth < 0) throw parseError(t.line, `unbalanced \`${t.text}\``);
      }
      current.push(t);
    }
    if (!closed) throw parseError(token.line, `unbalanced braces: \`${token.text} ${name.text}\` is never closed`);
    if (current.length > 0) statements.push(current);
    blocks.push({ keyword: token.text, name: name.text, line: token.line, statements });
  }
  return blocks;
}

function readProvider(block: Block): string | undefined {
  for (const statement of block.statements) {
    const [key, equals, value] = statement;
    if (key?.text === "provider" && equals?.text === "=" && value?.kind === "string") return value.text;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Attribute arguments: `("Name", fields: [a, b], onDelete: Cascade)`

type Value =
  | { readonly kind: "string"; readonly text: string }
  | { readonly kind: "word"; readonly text: string; readonly args: Args | undefined }
  | { readonly kind: "array"; readonly items: readonly Value[] };

interface Args {
  readonly positional: readonly Value[];
  readonly named: ReadonlyMap<string, Value>;
}

interface Attribute {
  readonly name: string;
  readonly args: Args | undefined;
  readonly line: number;
}

/** Reads values and argument lists from a token slice; `pos` advances as it goes. */
class ArgReader {
  pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly line: number,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** Reads `( ... )`; the current token must be `(`. */
  args(): Args {
    this.expect("(");
    const positional: Value[] = [];
    const named = new Map<string, Value>();
    while (this.peek()?.text !== ")") {
      const token = this.peek();
      const next = this.tokens[this.pos + 1];
      if (token?.kind === "word" && next?.text === ":") {
        this.pos += 2;
        named.set(token.text, this.value());
      } else {
        positional.push(this.value());
      }
      if (this.peek()?.text === ",") this.pos++;
      else if (this.peek()?.text !== ")") throw this.error("expected `,` or `)`");
    }
    this.pos++;
    return { positional, named };
  }

  value(): Value {
    const token = this.peek();
    if (token === undefined) throw this.error("unexpected end of arguments");
    if (token.kind === "string") {
      this.pos++;
      return { kind: "string", text: token.text };
    }
    if (token.kind === "word") {
      this.pos++;
      return { kind: "word", text: token.text, args: this.peek()?.text === "(" ? this.args() : undefined };
    }
    if (token.text === "[") {
      this.pos++;
      const items: Value[] = [];
      while (this.peek()?.text !== "]") {
        items.push(this.value());
        if (this.peek()?.text === ",") this.pos++;
        else if (this.peek()?.text !== "]") throw this.error("expected `,` or `]`");
      }
      this.pos++;
      return { kind: "array", items };
    }
    throw this.error(`unexpected ${JSON.stringify(token.text)}`);
  }

  expect(text: string): void {
    if (this.peek()?.text !== text) throw this.error(`expected \`${text}\``);
    this.pos++;
  }

  error(problem: string): Error {
    return parseError(this.peek()?.line ?? this.line, problem);
  }
}

/** Reads the attributes (`@id`, `@@unique([a, b])`, `@db.VarChar(20)`) starting at `reader.pos`. */
function readAttributes(reader: ArgReader, marker: "@" | "@@", line: number): Attribute[] {
  const attributes: Attribute[] = [];
  for (let token = reader.peek(); token !== undefined; token = reader.peek()) {
    if (token.text !== marker)
      throw reader.error(`expected an attribute (\`${marker}...\`), found ${JSON.stringify(token.text)}`);
    reader.pos++;
    const name = reader.peek();
    if (name?.kind !== "word") throw reader.error("attribute without a name");
    reader.pos++;
    const args = reader.peek()?.text === "(" ? reader.args() : undefined;
    attributes.push({ name: name.text, args, line });
  }
  return attributes;
}

/** Field names of a `fields:`/`references:`/key list; entries may carry arguments (`title(sort: Desc)`). */
function fieldList(value: Value | undefined, line: number, what: string): string[] {
  if (value === undefined) return [];
  if (value.kind !== "array") throw parseError(line, `${what} must be a list of fields`);
  return value.items.map((item) => {
    if (item.kind !== "word") throw parseError(line, `${what} must be a list of fields`);
    return item.text;
  });
}

function stringArg(value: Value | undefined, line: number, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.kind !== "string") throw parseError(line, `${what} must be a string`);
  return value.text;
}

function actionArg(value: Value | undefined, line: number, what: string): ReferentialAction | undefined {
  if (value === undefined) return undefined;
  if (value.kind !== "word" || !REFERENTIAL_ACTIONS.has(value.text)) {
    throw parseError(line, `${what} must be one of ${[...REFERENTIAL_ACTIONS].join(", ")}`);
  }
  return value.text as ReferentialAction;
}

// ---------------------------------------------------------------------------
// Models

interface FieldDraft {
  readonly name: string;
  readonly type: string;
  readonly list: boolean;
  readonly optional: boolean;
  readonly attributes: readonly Attribute[];
  readonly line: number;
}

interface RelationDraft {
  readonly name: string;
  readonly target: string;
  readonly list: boolean;
  readonly optional: boolean;
  readonly explicitName: string | undefined;
  readonly fields: readonly string[];
  readonly references: readonly string[];
  readonly onDelete: ReferentialAction | undefined;
  readonly onUpdate: ReferentialAction | undefined;
}

interface ModelDraft {
  readonly name: string;
  readonly isView: boolean;
  readonly dbName: string;
  readonly dbSchema: string | undefined;
  readonly columns: ReadonlyMap<string, string>;
  readonly scalarTypes: ReadonlyMap<string, string>;
  readonly scalarFields: ReadonlySet<string>;
  readonly optionalScalars: ReadonlySet<string>;
  readonly hasUpdatedAt: boolean;
  readonly primaryKey: PrimaryKey | undefined;
  readonly uniques: readonly UniqueKey[];
  readonly relations: readonly RelationDraft[];
}

function readField(statement: readonly Token[], line: number): FieldDraft {
  const reader = new ArgReader(statement, line);
  const name = reader.peek();
  if (name?.kind !== "word") throw parseError(line, `expected a field name, found ${JSON.stringify(name?.text)}`);
  reader.pos++;
  const type = reader.peek();
  if (type?.kind !== "word") throw parseError(line, `field \`${name.text}\` has no type`);
  reader.pos++;
  if (reader.peek()?.text === "(") reader.args(); // Unsupported("polygon")
  let list = false;
  let optional = false;
  if (reader.peek()?.text === "[") {
    reader.pos++;
    reader.expect("]");
    list = true;
  }
  // `?` marks optional; `!` was once proposed for required and is accepted and ignored.
  while (reader.peek()?.text === "?" || reader.peek()?.text === "!") {
    if (reader.peek()?.text === "?") optional = true;
    reader.pos++;
  }
  const attributes = readAttributes(reader, "@", line);
  return { name: name.text, type: type.text, list, optional, attributes, line };
}

function readModel(block: Block, modelNames: ReadonlySet<string>, provider: string | undefined): ModelDraft {
  const fields: FieldDraft[] = [];
  const blockAttributes: Attribute[] = [];
  for (const statement of block.statements) {
    const first = statement[0] as Token;
    if (first.text === "@@")
      blockAttributes.push(...readAttributes(new ArgReader(statement, first.line), "@@", first.line));
    else fields.push(readField(statement, first.line));
  }

  const scalarFields = new Set<string>();
  const optionalScalars = new Set<string>();
  let hasUpdatedAt = false;
  const relations: RelationDraft[] = [];
  let primaryKey: { fields: string[]; name: string | undefined } | undefined;
  const uniques: UniqueKey[] = [];
  const columns = new Map<string, string>();
  const scalarTypes = new Map<string, string>();

  for (const field of fields) {
    if (modelNames.has(field.type)) {
      relations.push(readRelation(field));
      continue;
    }
    scalarFields.add(field.name);
    scalarTypes.set(field.name, field.type);
    const map = field.attributes.find((attribute) => attribute.name === "map");
    columns.set(
      field.name,
      stringArg(map?.args?.named.get("name") ?? map?.args?.positional[0], field.line, "@map") ?? field.name,
    );
    if (field.optional) optionalScalars.add(field.name);
    for (const attribute of field.attributes) {
      if (attribute.name === "id") primaryKey ??= { fields: [field.name], name: undefined };
      if (attribute.name === "unique") uniques.push({ fields: [field.name], whereName: field.name });
      if (attribute.name === "updatedAt") hasUpdatedAt = true;
    }
  }
  for (const attribute of blockAttributes) {
    if (attribute.name !== "id" && attribute.name !== "unique") continue;
    const args = attribute.args;
    const keyFields = fieldList(
      args?.named.get("fields") ?? args?.positional[0],
      attribute.line,
      `@@${attribute.name} fields`,
    );
    if (keyFields.length === 0) throw parseError(attribute.line, `@@${attribute.name} without fields`);
    const name = stringArg(args?.named.get("name"), attribute.line, `@@${attribute.name} name`);
    if (attribute.name === "id") primaryKey ??= { fields: keyFields, name };
    else uniques.push({ fields: keyFields, whereName: whereNameOf(keyFields, name) });
  }

  const blockString = (name: string): string | undefined => {
    const attribute = blockAttributes.find((candidate) => candidate.name === name);
    return stringArg(
      attribute?.args?.named.get("name") ?? attribute?.args?.positional[0],
      attribute?.line ?? 0,
      `@@${name}`,
    );
  };
  const byName = new Map(fields.map((field) => [field.name, field]));
  return {
    name: block.name,
    isView: block.keyword === "view",
    dbName: blockString("map") ?? block.name,
    dbSchema: blockString("schema"),
    columns,
    scalarTypes,
    scalarFields,
    optionalScalars,
    hasUpdatedAt,
    primaryKey:
      primaryKey === undefined
        ? undefined
        : {
            fields: primaryKey.fields,
            whereName: whereNameOf(primaryKey.fields, primaryKey.name),
            keyKinds: primaryKey.fields.map((name) => keyKindOf(byName.get(name), provider)),
          },
    uniques,
    relations,
  };
}

/**
 * The `where` input name Prisma generates for a key: the field for one field, else `name:` or the fields joined by `_`.
 */
function whereNameOf(fields: readonly string[], name: string | undefined): string {
  return fields.length === 1 ? (fields[0] as string) : (name ?? fields.join("_"));
}

function readRelation(field: FieldDraft): RelationDraft {
  const attribute = field.attributes.find((candidate) => candidate.name === "relation");
  const args = attribute?.args;
  const line = field.line;
  const explicitName = stringArg(args?.named.get("name") ?? args?.positional[0], line, "@relation name");
  return {
    name: field.name,
    target: field.type,
    list: field.list,
    optional: field.optional,
    explicitName,
    fields: fieldList(args?.named.get("fields"), line, "@relation fields"),
    references: fieldList(args?.named.get("references"), line, "@relation references"),
    onDelete: actionArg(args?.named.get("onDelete"), line, "onDelete"),
    onUpdate: actionArg(args?.named.get("onUpdate"), line, "onUpdate"),
  };
}

/** String types whose equality is byte-exact on providers that compare strings exactly. */
const EXACT_STRING_NATIVE_TYPES = new Set(["Text", "VarChar", "String"]);
const UUID_NATIVE_TYPES = new Set(["Uuid", "UniqueIdentifier", "ObjectId"]);
const EXACT_STRING_PROVIDERS = new Set(["postgresql", "postgres", "cockroachdb", "sqlite", "mongodb"]);

function keyKindOf(field: FieldDraft | undefined, provider: string | undefined): KeyKind {
  if (field === undefined) return "inexact";
  switch (field.type) {
    case "Int":
    case "BigInt":
      return "integer";
    case "Boolean":
    case "Bytes":
      return "exact";
    case "String": {
      // A native type is an attribute named `<datasource>.<Type>`.
      const native = field.attributes
        .find((attribute) => attribute.name.includes("."))
        ?.name.split(".")
        .pop();
      if (native !== undefined && UUID_NATIVE_TYPES.has(native)) return "uuid";
      if (provider === undefined || !EXACT_STRING_PROVIDERS.has(provider)) return "inexact";
      return native === undefined || EXACT_STRING_NATIVE_TYPES.has(native) ? "exact" : "inexact";
    }
    case "DateTime":
    case "Decimal":
    case "Float":
    case "Json":
    case "Unsupported":
      return "inexact";
    default:
      // Enums: the client only accepts the declared values, so equality is exact.
      // (Composite types cannot be keys.)
      return "exact";
  }
}

// ---------------------------------------------------------------------------
// Pairing relation sides

function resolveRelations(drafts: readonly ModelDraft[]): Map<string, SchemaModel> {
  const draftsByName = new Map(drafts.map((draft) => [draft.name, draft]));
  const relationName = (model: string, relation: RelationDraft): string =>
    relation.explicitName ?? [model, relation.target].sort().join("To");
  const opposite = (model: string, relation: RelationDraft): RelationDraft | undefined => {
    const name = relationName(model, relation);
    return draftsByName
      .get(relation.target)
      ?.relations.find(
        (candidate) =>
          candidate.target === model &&
          relationName(relation.target, candidate) === name &&
          !(relation.target === model && candidate.name === relation.name),
      );
  };

  const models = new Map<string, SchemaModel>();
  for (const draft of drafts) {
    const relations = new Map<string, RelationField>();
    for (const relation of draft.relations) {
      const other = opposite(draft.name, relation);
      const holdsForeignKey = relation.fields.length > 0;
      const implicitManyToMany =
        relation.list && !holdsForeignKey && other !== undefined && other.list && other.fields.length === 0;
      let onDelete: ReferentialAction;
      let onUpdate: ReferentialAction;
      if (holdsForeignKey) {
        ({ onDelete, onUpdate } = actionsOf(relation, draft));
      } else if (implicitManyToMany) {
        // Prisma creates the join table with ON DELETE CASCADE ON UPDATE CASCADE on both columns.
        onDelete = "Cascade";
        onUpdate = "Cascade";
      } else if (other !== undefined && other.fields.length > 0) {
        ({ onDelete, onUpdate } = actionsOf(other, draftsByName.get(relation.target) as ModelDraft));
      } else {
        // No foreign key on either side we can see (an invalid schema): the database has nothing to do.
        onDelete = "NoAction";
        onUpdate = "NoAction";
      }
      relations.set(relation.name, {
        name: relation.name,
        target: relation.target,
        list: relation.list,
        optional: relation.optional,
        relationName: relationName(draft.name, relation),
        holdsForeignKey,
        fields: relation.fields,
        references: relation.references,
        onDelete,
        onUpdate,
        implicitManyToMany,
      });
    }
    models.set(draft.name, {
      name: draft.name,
      scalarFields: draft.scalarFields,
      primaryKey: draft.primaryKey,
      uniques: draft.uniques,
      relations,
      hasUpdatedAt: draft.hasUpdatedAt,
      isView: draft.isView,
      dbName: draft.dbName,
      dbSchema: draft.dbSchema,
      columns: draft.columns,
      scalarTypes: draft.scalarTypes,
    });
  }
  return models;
}

/**
 * The actions of a foreign-key side: explicit, else Prisma's defaults
 * (`onDelete`: SetNull when every foreign-key field is optional, else
 * Restrict; `onUpdate`: Cascade).
 */
function actionsOf(
  relation: RelationDraft,
  owner: ModelDraft,
): { onDelete: ReferentialAction; onUpdate: ReferentialAction } {
  const allOptional = relation.fields.every((field) => owner.optionalScalars.has(field));
  return {
    onDelete: relation.onDelete ?? (allOptional ? "SetNull" : "Restrict"),
    onUpdate: relation.onUpdate ?? "Cascade",
  };
}
