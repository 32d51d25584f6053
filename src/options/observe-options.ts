/**
 * The observability options (`metrics`, `logger`, `logRawKeys`), resolved:
 * defaults applied here, bad values refused with the option named and the fix.
 */
import { invalidOption } from "../errors.js";
import type { CacheLogger } from "../observe/log-events.js";
import type { ResolvedMetrics } from "../observe/metrics.js";
import type { ResolvedLogger } from "../observe/read-observer.js";
import { parseDuration, type Duration } from "./duration.js";

/** Labelled metrics settings (`metrics: { ... }`). */
export interface MetricsOptions {
  /**
   * Query-shape groups counted on their own; reads of further shapes count in one `other` group per model and
   * operation, so memory and label cardinality stay bounded.
   * @default 200
   */
  maxShapes?: number;
  /**
   * Counters of the hot-key sketch: it finds every key read more often than 1 read in `hotKeys`.
   * @default 100
   */
  hotKeys?: number;
  /**
   * The sliding window over which hot keys and shapes are ranked by rate.
   * @default "1m"
   */
  window?: Duration;
}

const DEFAULT_METRICS: ResolvedMetrics = { maxShapes: 200, hotKeys: 100, windowMs: 60_000 };
const METRICS_KEYS = new Set(["maxShapes", "hotKeys", "window"]);
const LOGGER_METHODS = ["debug", "info", "warn", "error"] as const;

/** `metrics`: undefined when labelled metrics are off (the default). */
export function resolveMetrics(metrics: unknown): ResolvedMetrics | undefined {
  if (metrics === undefined || metrics === false) return undefined;
  if (metrics === true) return DEFAULT_METRICS;
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics))
    throw invalidOption(
      "metrics",
      `is ${typeof metrics === "string" ? JSON.stringify(metrics) : String(metrics)}`,
      'Pass true (labelled metrics on), false, or { maxShapes: 200, hotKeys: 100, window: "1m" }.',
    );
  const unknown = Object.keys(metrics).find((key) => !METRICS_KEYS.has(key));
  if (unknown !== undefined)
    throw invalidOption(`metrics.${unknown}`, "is not an option", "Known: maxShapes, hotKeys, window.");
  const settings = metrics as MetricsOptions;
  return {
    maxShapes: count(settings.maxShapes, "metrics.maxShapes", DEFAULT_METRICS.maxShapes),
    hotKeys: count(settings.hotKeys, "metrics.hotKeys", DEFAULT_METRICS.hotKeys),
    windowMs:
      settings.window === undefined ? DEFAULT_METRICS.windowMs : parseDuration(settings.window, "metrics.window"),
  };
}

/** `logger` and `logRawKeys`: undefined without a logger. */
export function resolveLogger(logger: unknown, rawKeys: unknown): ResolvedLogger | undefined {
  if (rawKeys !== undefined && typeof rawKeys !== "boolean")
    throw invalidOption("logRawKeys", `is ${typeof rawKeys}`, "Pass true or false (the default: keys are hashed).");
  if (logger === undefined) return undefined;
  if (typeof logger !== "object" || logger === null)
    throw invalidOption(
      "logger",
      `is ${logger === null ? "null" : typeof logger}`,
      "Pass an object with any of debug, info, warn and error methods, such as console or a pino logger.",
    );
  const methods = LOGGER_METHODS.filter((level) => (logger as Record<string, unknown>)[level] !== undefined);
  const notFunction = methods.find((level) => typeof (logger as Record<string, unknown>)[level] !== "function");
  if (notFunction !== undefined)
    throw invalidOption(`logger.${notFunction}`, "is not a function", "Pass a method (event, message) => void.");
  if (methods.length === 0)
    throw invalidOption(
      "logger",
      "has none of the methods debug, info, warn, error",
      "Pass an object with at least one of them, such as console or a pino logger.",
    );
  return { logger: logger as CacheLogger, rawKeys: rawKeys === true };
}

function count(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 100_000)
    throw invalidOption(option, `is ${String(value)}`, "Pass a whole number between 1 and 100000.");
  return value;
}
