/**
 * The advisor's report as a plain-text table, for terminals and logs (the
 * `prisma-query-cache advise` command, the advisor benchmark).
 */
import type { AdvisorReport } from "./advisor-report.js";

const HEADERS = [
  "advice",
  "query",
  "would hit",
  "break-even",
  "reads",
  "db ms",
  "net ms",
  "entry",
  "ttl",
  "shape",
] as const;
/** Shapes can be long (a whole `where` tree); the table keeps their start. */
const MAX_SHAPE_CHARS = 80;

/** `report` as an aligned text table, one line per shape, with a line on what was observed. */
export function formatAdvisorTable(report: AdvisorReport): string {
  if (!report.enabled) return "The advisor is off: create the extension with `advisor: true` (docs/advisor.md).\n";
  const lines: string[][] = [
    [...HEADERS],
    ...report.rows.map((row) => [
      row.advice,
      `${row.model}.${row.operation}`,
      percent(row.hitRatio),
      percent(row.breakEvenHitRatio),
      String(row.reads),
      row.dbMs.toFixed(2),
      row.netMs.toFixed(0),
      formatBytes(row.bytes),
      row.suggestedTtlMs === undefined ? "-" : formatDuration(row.suggestedTtlMs),
      clip(row.shape.slice(row.model.length + row.operation.length + 2)),
    ]),
  ];
  const widths = HEADERS.map((_, column) => Math.max(...lines.map((line) => (line[column] as string).length)));
  const text = lines.map((line) =>
    line
      .map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join("  ")
      .trimEnd(),
  );
  const sampled = report.sample < 1 ? `, ${report.sample * 100}% of keys sampled` : "";
  const untracked = report.untrackedReads > 0 ? `, ${report.untrackedReads} reads past maxShapes not observed` : "";
  return `${text.join("\n")}\n(${report.rows.length} shapes, ${report.trackedKeys} keys tracked${sampled}${untracked}; net ms and break-even assume a miss adds ${report.missOverheadMs} ms)\n`;
}

/** Bytes as B / KB / MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A suggested ttl (always a whole number of seconds) as the duration text the options take: `30s`, `5m`, `1h`. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function clip(text: string): string {
  return text.length <= MAX_SHAPE_CHARS ? text : `${text.slice(0, MAX_SHAPE_CHARS - 3)}...`;
}
