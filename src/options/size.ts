/** Byte sizes: a number of bytes, or a string such as `"64mb"`, `"512kb"`, `"1gb"`. */
import { invalidOption } from "../errors.js";

/** A size: bytes as a number, or a string with a unit (`"64mb"`). Units are powers of 1024. */
export type ByteSize = number | `${number}${"b" | "kb" | "mb" | "gb" | "B" | "KB" | "MB" | "GB"}`;

const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
// Exactly the spellings the ByteSize type allows, so the type and the check agree.
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|B|KB|MB|GB)\s*$/;

/** Parses a byte size, or throws an error naming `option`. */
export function parseByteSize(value: unknown, option: string): number {
  let bytes = Number.NaN;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const match = PATTERN.exec(value);
    if (match) bytes = Number(match[1]) * (UNIT_BYTES[(match[2] as string).toLowerCase()] as number);
  }
  if (!Number.isFinite(bytes) || bytes < 1024) {
    throw invalidOption(
      option,
      `is ${JSON.stringify(value)}`,
      'Use a number of bytes of at least 1024, or a string such as "64mb".',
    );
  }
  return Math.floor(bytes);
}
