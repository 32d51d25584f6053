/**
 * Summarises a V8 .cpuprofile (they are far too big to read): the functions
 * with the most self time, and self time per package. Typical use:
 *
 *   BENCH_PATHS=c node --cpu-prof --cpu-prof-dir=/tmp/pqc-profiles --import tsx bench/read-path.bench.ts
 *   npx tsx bench/profile-summary.ts /tmp/pqc-profiles/CPU.*.cpuprofile [top=25]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Microseconds of self time per profile node id. */
function selfTimes(profile: Profile): Map<number, number> {
  const times = new Map<number, number>();
  profile.samples.forEach((nodeId, i) => times.set(nodeId, (times.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  return times;
}

/** `node_modules/@prisma/client/...` -> `@prisma/client`; the project's own files by folder. */
function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1] as string;
  if (url.startsWith("node:")) return "node (internal)";
  if (url === "") return "(vm / native)";
  return /\/work\/[^/]+\/([^/]+)/.exec(url)?.[1] ?? url;
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, "")
    .replace(/^.*node_modules\//, "")
    .replace(/^\/work\/[^/]+\//, "");
}

function addTo(totals: Map<string, number>, key: string, micros: number): void {
  totals.set(key, (totals.get(key) ?? 0) + micros);
}

function printTop(title: string, totals: Map<string, number>, all: number, top: number): void {
  console.log(`\n${title}`);
  for (const [key, micros] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((100 * micros) / all).toFixed(1).padStart(6)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
  }
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) throw new Error("usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]");
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let all = 0;
  for (const [nodeId, micros] of selfTimes(profile)) {
    const frame = (nodes.get(nodeId) as ProfileNode).callFrame;
    addTo(byFunction, `${frame.functionName || "(anonymous)"}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}`, micros);
    addTo(byPackage, packageOf(frame.url), micros);
    all += micros;
  }
  console.log(`${file}: ${(all / 1e6).toFixed(1)} s sampled`);
  printTop("self time by package", byPackage, all, 12);
  printTop(`top ${top} functions by self time`, byFunction, all, top);
}

main();
