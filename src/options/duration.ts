/**
 * Durations: every duration option accepts a number of **seconds** (which may
 * be fractional) or a string with a unit: `"500ms"`, `"30s"`, `"5m"`, `"2h"`,
 * `"1d"`. Internally everything is milliseconds.
 */
import { invalidOption } from "../errors.js";

/** A duration: seconds as a number, or a string with a unit (`"500ms"`, `"5m"`). */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// The number part accepts what the `${number}` type does (sign, fraction, exponent); the sign is checked below.
const PATTERN = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(ms|s|m|h|d)\s*$/;

/**
 * Parses a duration into milliseconds, or throws an error naming `option`.
 * `allowZero` admits 0 (used by options where 0 means "off").
 */
export function parseDuration(value: unknown, option: string, allowZero = false): number {
  let ms: number;
  if (typeof value === "number") {
    ms = value * 1_000;
  } else if (typeof value === "string") {
    const match = PATTERN.exec(value);
    if (!match) {
      throw invalidOption(
        option,
        `is ${JSON.stringify(value)}, which is not a duration`,
        'Use seconds as a number (60) or a string with a unit: "500ms", "30s", "5m", "2h", "1d".',
      );
    }
    ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  } else {
    throw invalidOption(
      option,
      `is ${typeof value}`,
      'Use seconds as a number (60) or a string with a unit: "500ms", "30s", "5m".',
    );
  }
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero)) {
    throw invalidOption(
      option,
      `is ${String(value)}`,
      allowZero ? "Use 0 (off) or a positive, finite duration." : 'Use a positive, finite duration such as 60 or "5m".',
    );
  }
  // Redis PX takes whole milliseconds; below 1 ms a TTL means nothing.
  return Math.max(allowZero && ms === 0 ? 0 : 1, Math.round(ms));
}
