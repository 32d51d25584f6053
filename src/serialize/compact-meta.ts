/**
 * superjson's type annotations, written once per shape instead of once per value.
 *
 * superjson keeps the JSON of a value apart from a map of the paths whose values
 * need a type back (`"0.createdAt": ["Date"]`). For a list of rows that map
 * repeats every annotated field of every row, and is the larger part of a
 * shared-tier entry: a 20-row list with two dates per row carries 40 paths. A
 * list's rows share their shape, so the map is folded into a tree in which the
 * rows of an array share one subtree (`*`):
 *
 *     { "*": { "createdAt": "Date", "author": { "joinedAt": "Date" } } }
 *
 * A folded tree is used only when expanding it against the JSON gives back
 * exactly the original map (checked on every fold): rows whose field is `null`
 * carry no annotation and expand to none, and any value the tree would describe
 * wrongly (a list mixing dates and strings at one path, as a computed value
 * may) keeps the map as superjson wrote it. So the fold changes the size of an
 * entry, never what it decodes to.
 */

/** superjson's annotation of one value: `["Date"]`, `["bigint"]`, `["custom", "prisma.Decimal"]`... */
type Annotation = readonly unknown[];

/** A folded map: property names and array indices, or `*` for every element of an array, down to annotations. */
export interface FoldedTree {
  [segment: string]: FoldedTree | Annotation;
}

const EVERY = "*";
const UNSAFE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Folds superjson's `values` map for `json` (the JSON half of the same
 * serialisation). Returns undefined when folding would not give back the same
 * map, or would not make it smaller.
 */
export function foldAnnotations(json: unknown, values: Readonly<Record<string, Annotation>>): FoldedTree | undefined {
  const paths = Object.keys(values);
  if (paths.length < 2) return undefined;
  const tree: FoldedTree = {};
  for (const path of paths) {
    const segments = splitPath(path);
    if (segments === undefined) return undefined;
    let node = tree;
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i] as string;
      const next = node[segment];
      if (Array.isArray(next)) return undefined; // an annotated value with annotated values inside: keep superjson's map
      node = (next as FoldedTree | undefined) ?? (node[segment] = {});
    }
    const last = segments[segments.length - 1] as string;
    if (node[last] !== undefined) return undefined;
    node[last] = values[path] as Annotation;
  }
  const folded = foldArrays(tree, json);
  const expanded: Record<string, Annotation> = {};
  expandInto(folded, json, "", expanded);
  return sameAnnotations(expanded, values) ? folded : undefined;
}

/** Expands a folded tree against `json` back into superjson's `values` map. */
export function expandAnnotations(json: unknown, tree: FoldedTree): Record<string, Annotation> {
  const values: Record<string, Annotation> = {};
  expandInto(tree, json, "", values);
  return values;
}

/**
 * Replaces the index children of every array node by a single `*` child, the union of their subtrees, when that
 * union expands against every element to exactly the element's own annotations (a row whose field is null has none,
 * and the union gives it none). Otherwise the array keeps its per-index children.
 */
function foldArrays(node: FoldedTree, json: unknown): FoldedTree {
  const out: FoldedTree = {};
  for (const [segment, child] of Object.entries(node)) {
    out[segment] = Array.isArray(child) ? child : foldArrays(child as FoldedTree, childOf(json, segment));
  }
  if (!Array.isArray(json) || Object.keys(out).length === 0) return out;
  let union: FoldedTree | Annotation | undefined;
  for (const child of Object.values(out)) {
    union = union === undefined ? child : merge(union, child);
    if (union === undefined) return out;
  }
  for (let i = 0; i < json.length; i++) {
    const own: Record<string, Annotation> = {};
    if (out[i] !== undefined) expandChild(out[i] as FoldedTree | Annotation, json[i], "", own);
    const folded: Record<string, Annotation> = {};
    expandChild(union as FoldedTree | Annotation, json[i], "", folded);
    if (!sameAnnotations(folded, own)) return out;
  }
  return { [EVERY]: union as FoldedTree | Annotation };
}

/** The union of two subtrees, or undefined when they annotate one path differently. */
function merge(a: FoldedTree | Annotation, b: FoldedTree | Annotation): FoldedTree | Annotation | undefined {
  if (Array.isArray(a) || Array.isArray(b)) return sameAnnotation(a, b) ? a : undefined;
  const out: FoldedTree = { ...(a as FoldedTree) };
  for (const [segment, child] of Object.entries(b as FoldedTree)) {
    const mine = out[segment];
    const merged = mine === undefined ? child : merge(mine, child);
    if (merged === undefined) return undefined;
    out[segment] = merged;
  }
  return out;
}

function expandInto(node: FoldedTree, json: unknown, prefix: string, out: Record<string, Annotation>): void {
  for (const [segment, child] of Object.entries(node)) {
    if (segment === EVERY && Array.isArray(json)) {
      for (let i = 0; i < json.length; i++) expandChild(child, json[i], `${prefix}${i}`, out);
    } else {
      expandChild(child, childOf(json, segment), prefix + escapeSegment(segment), out);
    }
  }
}

function expandChild(child: FoldedTree | Annotation, value: unknown, path: string, out: Record<string, Annotation>) {
  if (Array.isArray(child)) {
    // superjson annotates no null or missing value: a folded row whose field is null gets none either.
    if (value !== null && value !== undefined) out[path] = child;
  } else if (typeof value === "object" && value !== null) {
    expandInto(child as FoldedTree, value, `${path}.`, out);
  }
}

function childOf(json: unknown, segment: string): unknown {
  if (typeof json !== "object" || json === null) return undefined;
  return (json as Record<string, unknown>)[segment];
}

function sameAnnotations(a: Record<string, Annotation>, b: Readonly<Record<string, Annotation>>): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  return keys.every((key) => a[key] !== undefined && sameAnnotation(a[key], b[key]));
}

/** Deep equality of two annotations (arrays of strings, with nested maps for Map and Set contents). */
function sameAnnotation(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameAnnotation(x, b[i]));
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => sameAnnotation((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

/**
 * Decodes `json` in place by a folded tree whose every annotation `revive` knows (dates, bigints, Prisma's own
 * types), without building superjson's path map: the common shape of a query result. Returns false, having changed
 * nothing, when some annotation needs superjson itself (Map, Set, undefined...).
 */
export function reviveFolded(
  json: unknown,
  tree: FoldedTree,
  revive: (annotation: Annotation) => ((text: unknown) => unknown) | undefined,
): boolean {
  const known = new Map<Annotation, (text: unknown) => unknown>();
  // Keys that would reach a prototype when assigned are left to superjson, which refuses them.
  const collect = (node: FoldedTree): boolean =>
    Object.entries(node).every(([segment, child]) => {
      if (UNSAFE_KEYS.has(segment)) return false;
      if (!Array.isArray(child)) return collect(child as FoldedTree);
      const fn = revive(child);
      if (fn === undefined) return false;
      known.set(child, fn);
      return true;
    });
  if (!collect(tree)) return false;
  const visit = (child: FoldedTree | Annotation, holder: Record<string | number, unknown>, at: string | number) => {
    const current = holder[at];
    if (Array.isArray(child)) {
      const fn = known.get(child) as (text: unknown) => unknown;
      if (current !== null && current !== undefined) holder[at] = fn(current);
    } else if (typeof current === "object" && current !== null) {
      walk(child as FoldedTree, current);
    }
  };
  const walk = (node: FoldedTree, value: object): void => {
    for (const [segment, child] of Object.entries(node)) {
      if (segment === EVERY && Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) visit(child, value as unknown as Record<number, unknown>, i);
      } else {
        visit(child, value as Record<string, unknown>, segment);
      }
    }
  };
  if (typeof json === "object" && json !== null) walk(tree, json);
  return true;
}

/**
 * superjson's path syntax: segments joined by `.`, with `\` escaping a `.` or `\` inside a segment. Returns
 * undefined for a path this module does not read the same way (left to superjson's own map).
 */
function splitPath(path: string): string[] | undefined {
  const segments: string[] = [];
  let current = "";
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === "\\") {
      const next = path[i + 1];
      if (next !== "." && next !== "\\") return undefined;
      current += next;
      i++;
    } else if (char === ".") {
      segments.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  segments.push(current);
  return segments.includes(EVERY) ? undefined : segments;
}

function escapeSegment(segment: string): string {
  return segment.replace(/\\/g, "\\\\").replace(/\./g, "\\.");
}
