/**
 * The tags a mutation bumps (docs/invalidation.md, "Writes"). A write bumps a
 * model only when rows of that model change:
 *
 * - `m:Model` of its target, and `r:Model:<pk>` for every row whose primary
 *   key is known (from a `where` by primary key, or from the rows the write
 *   returns), else `rs:Model`; `rs:Model` too when the write can change a
 *   primary key, because the row's old key may be unknown. An `update` whose
 *   data only links rows through relations whose foreign keys live elsewhere
 *   changes no row of its model and bumps none of these (unless the model has
 *   an `@updatedAt` field);
 * - for each nested write in `data`, recursively, what it changes: rows of the
 *   related model for nested creates, updates, upserts and deletes (`m:` and
 *   `rs:`); for `connect`, `disconnect` and `set`, the side that holds the
 *   foreign key (the written row itself, counted above; or the related rows,
 *   by record tag when a list relation names them by primary key) or the join
 *   table of an implicit many-to-many (`j:Relation`);
 * - `m:` and `rs:` of every model the database's referential actions reach,
 *   for deletes and for updates of a referenced key.
 *
 * Reads that look at a relation depend on the side that holds it
 * (read-tags.ts), so these narrower tags still reach every read a write can
 * change. Where the walk cannot tell, it errs towards more tags: a needless
 * bump costs a miss, a missing one serves stale data.
 */
import {
  referencedFields,
  referentialReach,
  oppositeRelation,
  type RelationField,
  type SchemaGraph,
  type SchemaModel,
} from "../schema/schema-graph.js";
import { isPlainObject, joinTableTag, modelTag, recordTagFromRow, recordTagFromWhere, rowsTag } from "./tag-names.js";

/** Nested write operations Prisma accepts on a relation field inside `data`. */
const NESTED_OPERATIONS: ReadonlySet<string> = new Set([
  "create",
  "createMany",
  "connect",
  "connectOrCreate",
  "set",
  "disconnect",
  "update",
  "updateMany",
  "upsert",
  "delete",
  "deleteMany",
]);

/**
 * The tags a write to `model` bumps: deduplicated and sorted.
 *
 * @param operation create, createMany, createManyAndReturn, update, updateMany,
 *   updateManyAndReturn, upsert, delete or deleteMany; any other operation is
 *   treated as touching every row of the model (`m:` and `rs:`).
 * @param args      the write's arguments (`where`, `data`, `create`, `update`)
 * @param result    what the write resolved to: a row, a list of rows (`*AndReturn`),
 *   a `{ count }` object, `null` or `undefined`. Rows that hold every
 *   primary-key field name their record tags.
 */
export function writeTags(
  graph: SchemaGraph,
  model: string,
  operation: string,
  args: unknown,
  result: unknown,
): string[] {
  const schemaModel = graph.models.get(model);
  if (schemaModel === undefined) return [modelTag(model), rowsTag(model)].sort();
  const writer = new WriteWalker(graph);
  const input = isPlainObject(args) ? args : {};

  // Each case decides how rows are named: by record tags when every affected row's key is known, else by `rs:`.
  switch (operation) {
    case "create": {
      writer.createData(schemaModel, input.data);
      writer.rowsFromResult(schemaModel, result);
      break;
    }
    case "createMany":
    case "createManyAndReturn": {
      for (const row of asList(input.data)) writer.createData(schemaModel, row);
      if (operation === "createMany") writer.touchRows(model);
      else writer.rowsFromResult(schemaModel, result);
      break;
    }
    case "update": {
      const changed = writer.updateData(schemaModel, input.data);
      if (!updateChangesRow(schemaModel, input.data, changed)) return [...writer.tags].sort();
      const byWhere = writer.recordFromWhere(schemaModel, input.where);
      const byResult = writer.recordsFromResult(schemaModel, result);
      if (!byWhere && !byResult) writer.touchRows(model);
      writer.afterUpdate(schemaModel, changed);
      break;
    }
    case "updateMany":
    case "updateManyAndReturn": {
      const changed = writer.updateData(schemaModel, input.data);
      if (operation === "updateMany") writer.touchRows(model);
      else writer.rowsFromResult(schemaModel, result);
      writer.afterUpdate(schemaModel, changed);
      break;
    }
    case "upsert": {
      writer.createData(schemaModel, input.create);
      const changed = writer.updateData(schemaModel, input.update);
      writer.recordFromWhere(schemaModel, input.where);
      // The where's key alone is not enough: when the upsert creates, the new row's key comes from `create` or a
      // default.
      writer.rowsFromResult(schemaModel, result);
      writer.afterUpdate(schemaModel, changed);
      break;
    }
    case "delete": {
      const byWhere = writer.recordFromWhere(schemaModel, input.where);
      const byResult = writer.recordsFromResult(schemaModel, result);
      if (!byWhere && !byResult) writer.touchRows(model);
      writer.reach(model, "delete");
      break;
    }
    case "deleteMany": {
      writer.touchRows(model);
      writer.reach(model, "delete");
      break;
    }
    default:
      writer.touchRows(model);
  }
  writer.tags.add(modelTag(model));
  return [...writer.tags].sort();
}

/**
 * Whether an `update` with `data` (whose fields of the model are `changed`) can change the row: not when every
 * entry of its data is a nested write on a relation whose foreign key lives elsewhere (the related rows or a join
 * table change instead), unless an `@updatedAt` field may be written anyway. An empty `data` counts as a change:
 * nothing is gained by narrowing it, and the conservative side is a needless miss.
 */
function updateChangesRow(model: SchemaModel, data: unknown, changed: ReadonlySet<string>): boolean {
  if (changed.size > 0 || model.hasUpdatedAt || !isPlainObject(data)) return true;
  const entries = Object.entries(data).filter(([, value]) => value !== undefined);
  return entries.length === 0 || entries.some(([key]) => !model.relations.has(key));
}

/** Collects tags while walking one write's arguments. */
class WriteWalker {
  readonly tags = new Set<string>();

  constructor(private readonly graph: SchemaGraph) {}

  /** `m:` and `rs:` of a model: its rows changed, which ones is not known. */
  touchRows(model: string): void {
    this.tags.add(modelTag(model));
    this.tags.add(rowsTag(model));
  }

  /** Every model the database's referential actions reach from `model`. */
  reach(model: string, kind: "delete" | "update", changedFields?: Iterable<string>): void {
    for (const reached of referentialReach(this.graph, model, kind, changedFields)) this.touchRows(reached);
  }

  /** Adds the record tag named by a unique `where`; false when it does not name the primary key. */
  recordFromWhere(model: SchemaModel, where: unknown): boolean {
    const tag = recordTagFromWhere(model, where);
    if (tag !== undefined) this.tags.add(tag);
    return tag !== undefined;
  }

  /** Adds the record tag of every returned row; false when there is no row, or some row lacks its key. */
  recordsFromResult(model: SchemaModel, result: unknown): boolean {
    const rows = Array.isArray(result) ? result : [result];
    if (rows.length === 0 && Array.isArray(result)) return true; // an empty `*AndReturn` changed no row
    let all = true;
    for (const row of rows) {
      const tag = recordTagFromRow(model, row);
      if (tag === undefined) all = false;
      else this.tags.add(tag);
    }
    return all;
  }

  /** Record tags from the result, or `rs:` when the result does not name every row. */
  rowsFromResult(model: SchemaModel, result: unknown): void {
    if (!this.recordsFromResult(model, result)) this.touchRows(model.name);
  }

  /**
   * After an update of `model` that changed `changed` fields (scalar keys of
   * its data, and foreign keys moved by nested writes): a changed primary key
   * means the old key may be unknown (`rs:`); a changed referenced field
   * makes the database update referencing rows (`onUpdate`).
   */
  afterUpdate(model: SchemaModel, changed: ReadonlySet<string>): void {
    if (changed.size === 0) return;
    if (model.primaryKey?.fields.some((field) => changed.has(field))) this.touchRows(model.name);
    this.referencedChange(model.name, changed);
  }

  /** Data of a row being created: only its nested writes matter (an insert triggers no referential action). */
  createData(model: SchemaModel, data: unknown): void {
    if (!isPlainObject(data)) return;
    for (const [key, value] of Object.entries(data)) {
      const relation = model.relations.get(key);
      if (relation !== undefined) this.nested(model, relation, value);
    }
  }

  /** Data of rows being updated: walks nested writes, and returns the fields of `model` it changes. */
  updateData(model: SchemaModel, data: unknown): Set<string> {
    const changed = new Set<string>();
    if (!isPlainObject(data)) return changed;
    for (const [key, value] of Object.entries(data)) {
      if (value === undefined) continue;
      if (model.scalarFields.has(key)) {
        changed.add(key);
        continue;
      }
      const relation = model.relations.get(key);
      if (relation === undefined) continue;
      // A nested write other than update/updateMany on the foreign-key side moves our foreign key.
      if (
        relation.holdsForeignKey &&
        isPlainObject(value) &&
        Object.entries(value).some(
          ([op, argument]) =>
            NESTED_OPERATIONS.has(op) &&
            argument !== undefined &&
            argument !== false &&
            op !== "update" &&
            op !== "updateMany",
        )
      ) {
        for (const field of relation.fields) changed.add(field);
      }
      this.nested(model, relation, value);
    }
    return changed;
  }

  /**
   * One relation field in `data` with its nested operations: nested creates, updates, upserts and deletes change
   * rows of the related model (`m:` + `rs:`, then each operation's own effects); `connect`, `disconnect` and `set`
   * change the side that holds the relation ({@link linkChange}). A `false` argument (`disconnect: false`) does
   * nothing.
   */
  private nested(model: SchemaModel, relation: RelationField, value: unknown): void {
    if (!isPlainObject(value)) return;
    const operations = Object.keys(value).filter(
      (op) => NESTED_OPERATIONS.has(op) && value[op] !== undefined && value[op] !== false,
    );
    if (operations.length === 0) return;
    const target = this.graph.models.get(relation.target);
    if (target === undefined) {
      this.touchRows(relation.target);
      return;
    }

    for (const op of operations) {
      const argument = value[op];
      switch (op) {
        case "create":
          this.touchRows(target.name);
          for (const item of asList(argument)) this.createData(target, item);
          break;
        case "createMany":
          this.touchRows(target.name);
          if (isPlainObject(argument)) for (const item of asList(argument.data)) this.createData(target, item);
          break;
        case "connectOrCreate":
          this.touchRows(target.name);
          for (const item of asList(argument)) if (isPlainObject(item)) this.createData(target, item.create);
          this.linkChange(model, relation, target, undefined);
          break;
        case "connect":
          this.linkChange(model, relation, target, asList(argument));
          break;
        case "disconnect":
          // A to-one disconnect takes `true` or a filter, neither of which names the row by its key.
          this.linkChange(model, relation, target, relation.list ? asList(argument) : undefined);
          break;
        case "set":
          // `set` also disconnects every row it does not name.
          this.linkChange(model, relation, target, undefined);
          break;
        case "update":
        case "updateMany":
          this.touchRows(target.name);
          for (const item of asList(argument)) this.nestedUpdate(target, item);
          break;
        case "upsert":
          this.touchRows(target.name);
          for (const item of asList(argument)) {
            if (!isPlainObject(item)) continue;
            this.createData(target, item.create);
            this.nestedUpdate(target, item.update);
          }
          break;
        case "delete":
        case "deleteMany":
          this.touchRows(target.name);
          this.reach(target.name, "delete");
          break;
      }
    }
  }

  /**
   * Rows linked or unlinked through `relation` (connect, disconnect, set, the connect side of connectOrCreate):
   * what changes is wherever the relation is kept.
   *
   * - An implicit many-to-many keeps it in its join table: `j:Relation`, and no row of either model.
   * - A foreign key on the written side: the written row changes, which {@link updateData} counts (or it is being
   *   created). On a one-to-one, `rs:` of the written model too: another of its rows may have held the other end.
   * - A foreign key on the related side: the related rows change. A list relation naming each of them by primary
   *   key (`wheres`) bumps their record tags; otherwise which rows is not known (`rs:`), as on a to-one, where the
   *   row linked before is unlinked, or when the foreign key is part of their primary key (the rows move to new
   *   keys).
   */
  private linkChange(
    model: SchemaModel,
    relation: RelationField,
    target: SchemaModel,
    wheres: readonly unknown[] | undefined,
  ): void {
    if (relation.implicitManyToMany) {
      this.tags.add(joinTableTag(relation.relationName));
      return;
    }
    if (relation.holdsForeignKey) {
      if (oppositeRelation(this.graph, model.name, relation)?.list !== true) this.touchRows(model.name);
      return;
    }
    this.tags.add(modelTag(target.name));
    // A to-one link also unlinks the row linked before, which is not named. A foreign key that is part of the
    // related rows' primary key (an explicit many-to-many) moves them to keys no argument names.
    const opposite = oppositeRelation(this.graph, model.name, relation);
    const keyMoves = opposite?.fields.some((field) => target.primaryKey?.fields.includes(field)) === true;
    const named =
      !keyMoves &&
      relation.list &&
      wheres !== undefined &&
      wheres.length > 0 &&
      wheres.every((where) => recordTagFromWhere(target, where) !== undefined);
    if (named) for (const where of wheres) this.recordFromWhere(target, where);
    else this.tags.add(rowsTag(target.name));
    this.foreignKeyOnTargetMoves(model, relation);
  }

  /**
   * A nested update's argument: `{ where, data }` for lists and `updateMany`,
   * the target's update data itself for a to-one relation (or `{ where?, data }`).
   * Both readings are walked when ambiguous: a field named `data` would be
   * misread only into extra tags.
   */
  private nestedUpdate(target: SchemaModel, item: unknown): void {
    if (!isPlainObject(item)) return;
    const candidates = isPlainObject(item.data) ? [item, item.data] : [item];
    for (const data of candidates) {
      const changed = this.updateData(target, data);
      // The target already has `m:` and `rs:`; what is left is the database's onUpdate actions.
      this.referencedChange(target.name, changed);
    }
  }

  /**
   * connect/disconnect/set from the side without the foreign key moves the target's foreign key, which may itself be
   * referenced.
   */
  private foreignKeyOnTargetMoves(model: SchemaModel, relation: RelationField): void {
    if (relation.holdsForeignKey) return; // our own foreign key: counted by updateData
    const opposite = oppositeRelation(this.graph, model.name, relation);
    if (opposite !== undefined && opposite.holdsForeignKey)
      this.referencedChange(relation.target, new Set(opposite.fields));
  }

  /**
   * When `changed` fields of `model` are referenced by other rows, the database's onUpdate actions reach further
   * models.
   */
  private referencedChange(model: string, changed: ReadonlySet<string>): void {
    const referenced = referencedFields(this.graph, model);
    const hit = [...changed].filter((field) => referenced.has(field));
    if (hit.length > 0) this.reach(model, "update", hit);
  }
}

/** A value or a list of values, as Prisma accepts for `data`, `create`, `connect`... */
function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
