/**
 * Whether a write that failed outside an interactive transaction may still
 * have changed the database (consistency contract, item 3).
 *
 * The classification is an allowlist of refusals known to leave nothing
 * committed; every other failure is a possibly committed write, which the
 * write side invalidates before the error reaches the caller. Guessing the
 * other way round (every `P2` code is a refusal) was wrong: Prisma 7 turns
 * any driver error of a raw statement into P2010 "Raw query failed" (a TCP
 * reset included) and any Postgres error its adapter does not name into
 * P2039 "Database error" (a FATAL ErrorResponse included: 57P01 shutdown,
 * PgBouncer's 08P01), and those may follow the server's commit. An extra
 * invalidation costs a miss; a missing one serves the pre-write row.
 *
 * A driver error reaches the caller as `meta.driverAdapterError` of the known
 * request error (@prisma/client-engine-runtime, user-facing-error.ts); its
 * `cause` says what the adapter saw (`kind`, and for an error the adapter does
 * not name, the SQLSTATE `code` and `severity` of the server's answer).
 */

/**
 * Adapter error kinds that are the database's answer to a statement it then
 * rolled back (a data or schema error, a write conflict), or a failure before
 * anything was sent (an isolation level the adapter cannot set). Not here:
 * connection kinds (ConnectionClosed, SocketTimeout, TransactionAlreadyClosed,
 * ...), which may follow a commit, and InconsistentColumnData /
 * UnsupportedNativeDataType, raised while reading a result the statement
 * already produced (`UPDATE ... RETURNING` included), nor GenericJs.
 */
const REFUSAL_KINDS: ReadonlySet<string> = new Set([
  "LengthMismatch",
  "UniqueConstraintViolation",
  "ForeignKeyConstraintViolation",
  "RestrictViolation",
  "InvalidInputValue",
  "NullConstraintViolation",
  "ValueOutOfRange",
  "TableDoesNotExist",
  "ColumnNotFound",
  "MissingFullTextSearchIndex",
  // 40001 serialization failure / 40P01 deadlock: an ERROR, so the transaction (or the autocommit statement) was
  // rolled back, also when raised by COMMIT itself.
  "TransactionWriteConflict",
  "InvalidIsolationLevel",
]);

/**
 * SQLSTATE classes of an ERROR-severity answer that rolls the statement (and
 * its transaction) back: data exceptions (22), integrity constraints (23),
 * cardinality (21), triggered data change (27), routine exceptions (2F, 38,
 * 39), syntax and access rules (42), WITH CHECK OPTION (44), features not
 * supported (0A), and errors raised by PL/pgSQL (P0: RAISE in a trigger).
 * Not class 08 (connection), 57 (operator intervention, except 57014 below),
 * 58 (system error: an I/O error may come after the commit record), XX
 * (internal error), nor 40 as a class (40003: statement completion unknown).
 */
const REFUSAL_CLASSES: ReadonlySet<string> = new Set([
  "0A",
  "21",
  "22",
  "23",
  "27",
  "2F",
  "38",
  "39",
  "42",
  "44",
  "P0",
]);

/**
 * Single SQLSTATEs of an ERROR-severity answer that leave nothing committed:
 * 57014 (statement timeout or cancel: the statement is aborted, and a cancel
 * reaching a COMMIT in progress is held off until it is done, never reported
 * as its error), 40001 / 40002 / 40P01 (serialization failure, integrity
 * constraint at commit, deadlock: rolled back), 25P02 (a statement in an
 * already failed transaction), 25006 (a write in a read-only transaction),
 * 55P03 (lock not available).
 */
const REFUSAL_CODES: ReadonlySet<string> = new Set(["57014", "40001", "40002", "40P01", "25P02", "25006", "55P03"]);

/**
 * Codes the client's query interpreter raises itself (no driver error under
 * them): P2025 (the record to write was not found), P2014 / P2017 / P2018
 * (a relation check failed), P2029 (too many bind variables, refused before
 * sending). Each stops the query plan before its write, or inside the
 * transaction Prisma then rolls back.
 */
const INTERPRETER_REFUSALS: ReadonlySet<string> = new Set(["P2025", "P2014", "P2017", "P2018", "P2029"]);

/** The adapter's description of a driver error (`@prisma/driver-adapter-utils` MappedError, the fields read here). */
interface DriverErrorCause {
  kind?: unknown;
  code?: unknown;
  originalCode?: unknown;
  severity?: unknown;
}

/**
 * Whether a write that failed outside an interactive transaction may still
 * have changed the database: false only for a refusal known to leave nothing
 * committed (a Prisma validation error; a known request error whose driver
 * cause is a data error, a constraint or a write conflict; a record not found,
 * P2025; see the allowlists above). Anything else (a connection closed or
 * reset, a FATAL answer, P2010 or P2039 wrapping either, P2028, an unknown
 * error) may come after the server committed.
 */
export function writeMayHaveCommitted(error: unknown): boolean {
  const failure = error as { name?: unknown; code?: unknown; meta?: unknown } | null | undefined;
  if (failure?.name === "PrismaClientValidationError") return false; // raised before anything is sent
  if (failure?.name !== "PrismaClientKnownRequestError" || typeof failure.code !== "string") return true;
  const cause = driverErrorCause(failure.meta);
  if (cause === undefined) return !INTERPRETER_REFUSALS.has(failure.code);
  return !isRefusal(cause);
}

/** `meta.driverAdapterError.cause` of a known request error, where present. */
function driverErrorCause(meta: unknown): DriverErrorCause | undefined {
  const adapterError = (meta as { driverAdapterError?: { cause?: unknown } } | null | undefined)?.driverAdapterError;
  const cause = adapterError?.cause;
  return typeof cause === "object" && cause !== null ? (cause as DriverErrorCause) : undefined;
}

/** Whether the adapter's error is a database refusal that leaves nothing committed. */
function isRefusal(cause: DriverErrorCause): boolean {
  if (typeof cause.kind === "string" && REFUSAL_KINDS.has(cause.kind)) return true;
  if (cause.kind !== "postgres") return false; // other databases' unnamed errors: unknown, so possibly committed
  if (cause.severity !== "ERROR") return false; // FATAL / PANIC: the session died, maybe after a commit
  const sqlState = typeof cause.code === "string" ? cause.code : cause.originalCode;
  if (typeof sqlState !== "string" || sqlState.length !== 5) return false;
  return REFUSAL_CODES.has(sqlState) || REFUSAL_CLASSES.has(sqlState.slice(0, 2));
}
