/**
 * The tags a cached read depends on (docs/invalidation.md, "Reads").
 *
 * A read depends on the model it queries (`m:Model`), or, for a `findUnique`
 * by primary key, only on that row (`r:Model:<pk>` + `rs:Model`), so writes to
 * other rows do not evict it. Every relation the read reaches, anywhere in its
 * arguments (`include`, relation fields in `select`, `_count`, relation
 * filters in `where`, `orderBy` by a relation), adds `m:Related`: rows reached
 * through a relation change whenever the related model is written. A relation
 * kept in a foreign key needs nothing more: the key lives in a row of one of
 * the two models, and a change to it bumps that model's tags. An implicit
 * many-to-many keeps its links in a join table of its own, so reaching one
 * adds `j:Relation` too.
 *
 * The walk is a superset by design: an unknown key is ignored, a relation
 * named in an unexpected place still adds its tag. An extra tag costs an
 * occasional needless miss; a missing one serves stale data.
 */
import type { RelationField, SchemaGraph, SchemaModel } from "../schema/schema-graph.js";
import { isPlainObject, joinTableTag, modelTag, recordTagFromWhere, rowsTag } from "./tag-names.js";

const UNIQUE_READS = new Set(["findUnique", "findUniqueOrThrow"]);
/**
 * Reads whose arguments are `where` + `orderBy` (+ scalar-only selections): no `include`, and `_count` means rows, not
 * relations.
 */
const AGGREGATE_READS = new Set(["count", "aggregate", "groupBy"]);

/**
 * The tags a read of `model` with `operation` (`findUnique`, `findMany`,
 * `count`, ...) and `args` depends on: deduplicated and sorted. An unknown
 * model yields just its model tag; unknown relation names and keys are skipped.
 */
export function readTags(graph: SchemaGraph, model: string, operation: string, args: unknown): string[] {
  const tags = new Set<string>();
  const schemaModel = graph.models.get(model);
  if (schemaModel === undefined) return [modelTag(model)];

  const record =
    UNIQUE_READS.has(operation) && isPlainObject(args) ? recordTagFromWhere(schemaModel, args.where) : undefined;
  if (record !== undefined) {
    tags.add(record);
    tags.add(rowsTag(model));
  } else {
    tags.add(modelTag(model));
  }

  const walker = new ReadWalker(graph, tags);
  if (AGGREGATE_READS.has(operation)) {
    if (isPlainObject(args)) {
      walker.where(schemaModel, args.where);
      // count and aggregate order by relations too (`...OrderByWithRelationInput`); groupBy cannot, but walking is
      // harmless.
      walker.orderBy(schemaModel, args.orderBy);
    }
  } else {
    walker.args(schemaModel, args);
  }
  return [...tags].sort();
}

/** Walks read arguments and collects the model tag of every relation reached. */
class ReadWalker {
  constructor(
    private readonly graph: SchemaGraph,
    private readonly tags: Set<string>,
  ) {}

  /**
   * Arguments of a find, or of a relation inside `include`/`select`: where, include, select, orderBy. `cursor` and
   * `distinct` name fields of the same model only.
   */
  args(model: SchemaModel, args: unknown): void {
    if (!isPlainObject(args)) return;
    this.where(model, args.where);
    this.selection(model, args.include);
    this.selection(model, args.select);
    this.orderBy(model, args.orderBy);
  }

  /** `include` or `select`: relation fields (true or nested arguments) and `_count`. */
  selection(model: SchemaModel, selection: unknown): void {
    if (!isPlainObject(selection)) return;
    for (const [key, value] of Object.entries(selection)) {
      if (key === "_count") {
        this.count(model, value);
        continue;
      }
      const relation = model.relations.get(key);
      if (relation === undefined || (value !== true && !isPlainObject(value))) continue;
      const target = this.reach(relation);
      if (target !== undefined) this.args(target, value);
    }
  }

  /** `_count: true` counts every list relation; `_count: { select: { posts: true | { where } } }` the named ones. */
  count(model: SchemaModel, count: unknown): void {
    if (count === true) {
      for (const relation of model.relations.values()) if (relation.list) this.reach(relation);
      return;
    }
    if (!isPlainObject(count) || !isPlainObject(count.select)) return;
    for (const [key, value] of Object.entries(count.select)) {
      const relation = model.relations.get(key);
      if (relation === undefined || (value !== true && !isPlainObject(value))) continue;
      const target = this.reach(relation);
      if (target !== undefined && isPlainObject(value)) this.where(target, value.where);
    }
  }

  /**
   * A `where` at any depth: AND/OR/NOT, list filters (some/every/none), to-one filters (is/isNot, or the target's own
   * where).
   */
  where(model: SchemaModel, where: unknown): void {
    if (!isPlainObject(where)) return;
    for (const [key, value] of Object.entries(where)) {
      if (value === undefined) continue;
      if (key === "AND" || key === "OR" || key === "NOT") {
        for (const item of Array.isArray(value) ? value : [value]) this.where(model, item);
        continue;
      }
      const relation = model.relations.get(key);
      if (relation === undefined) continue;
      const target = this.reach(relation);
      if (target === undefined || !isPlainObject(value)) continue; // `{ author: null }`: the tag is all it needs
      if (relation.list) {
        this.where(target, value.some);
        this.where(target, value.every);
        this.where(target, value.none);
      } else {
        this.where(target, value.is);
        this.where(target, value.isNot);
        // Prisma also takes the target's where directly for a to-one relation: `{ author: { name: "x" } }`.
        this.where(target, value);
      }
    }
  }

  /**
   * `orderBy` (an object or a list of them): `{ author: { name: "asc" } }` follows the to-one relation; `{ posts: {
   * _count: "desc" } }` reaches the list.
   */
  orderBy(model: SchemaModel, orderBy: unknown): void {
    for (const item of Array.isArray(orderBy) ? orderBy : [orderBy]) {
      if (!isPlainObject(item)) continue;
      for (const [key, value] of Object.entries(item)) {
        const relation = model.relations.get(key);
        if (relation === undefined || value === undefined) continue;
        const target = this.reach(relation);
        if (target !== undefined && !relation.list) this.orderBy(target, value);
      }
    }
  }

  /**
   * Adds the tags of a relation the read reaches (the related model's, and the join table's for an implicit
   * many-to-many) and returns the related model (undefined if the schema does not know it).
   */
  private reach(relation: RelationField): SchemaModel | undefined {
    this.tags.add(modelTag(relation.target));
    if (relation.implicitManyToMany) this.tags.add(joinTableTag(relation.relationName));
    return this.graph.models.get(relation.target);
  }
}
