/**
 * Every private Prisma API this library touches, in one place. Each use is
 * guarded by test/integration/prisma-internals.test.ts, which fails loudly when a Prisma
 * release changes it.
 *
 * - The transaction scope symbol: Prisma marks the client it hands to
 *   `$transaction(async (tx) => ...)` with it. A model extension has no public
 *   way to know it runs inside an interactive transaction, and reads in a
 *   transaction must bypass the cache (consistency contract, item 3).
 * - `_runtimeDataModel`: the model names (to validate `models` options) and a
 *   hash of the data model (to retire entries when the schema changes).
 * - `_globalOmit`: the client's `omit` option shapes every result, so it is
 *   part of the key namespace (two clients with different global omits must
 *   never share entries).
 */
import { CacheError } from "../errors.js";

const TRANSACTION_SCOPE = Symbol.for("prisma.client.transaction.scope_context");

/** True when `client` is the transaction client of an interactive transaction. */
export function isTransactionClient(client: unknown): boolean {
  return (client as Record<symbol, unknown> | null | undefined)?.[TRANSACTION_SCOPE] !== undefined;
}

/** The runtime data model as the client carries it: models with their fields, enums, types. */
export interface RuntimeDataModel {
  models: Record<string, { fields: ReadonlyArray<{ name: string; kind: string; type: string; relationName?: string }> }>;
  enums: Record<string, unknown>;
  types: Record<string, unknown>;
}

/** The client's runtime data model. Throws E_PRISMA_INTERNALS if this Prisma release moved it. */
export function runtimeDataModel(client: unknown): RuntimeDataModel {
  const model = (client as { _runtimeDataModel?: RuntimeDataModel } | null | undefined)?._runtimeDataModel;
  if (typeof model !== "object" || model === null || typeof model.models !== "object") {
    throw new CacheError(
      "E_PRISMA_INTERNALS",
      "this Prisma Client has no runtime data model (`_runtimeDataModel`). prisma-query-cache supports @prisma/client 7; if you run a newer release, please report it.",
    );
  }
  return model;
}

/** The client's global `omit` option (`new PrismaClient({ omit })`), or undefined. */
export function globalOmit(client: unknown): unknown {
  return (client as { _globalOmit?: unknown } | null | undefined)?._globalOmit;
}
