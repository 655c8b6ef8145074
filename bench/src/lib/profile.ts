// Reading a V8 .cpuprofile (node --cpu-prof): where the samples landed, by file, by function
// (self time) and by function including callees (total time), optionally within a time window.
import { readFileSync } from "node:fs";
import { z } from "zod";

const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type ProfileNode = z.infer<typeof CpuProfile>["nodes"][number];

export interface ProfileSummary {
  totalMs: number;
  byFile: { name: string; ms: number; share: number }[];
  bySelf: { name: string; ms: number; share: number }[];
  byTotal: { name: string; ms: number; share: number }[];
  /** Total time of the functions in files matching `ownCode` (the project's bundled code). */
  byTotalOwn: { name: string; ms: number; share: number }[];
}

/** The current time on the clock V8 stamps profiles with (CLOCK_MONOTONIC on Linux), in µs. */
export const profileClockNow = (): number => Number(process.hrtime.bigint() / 1000n);

/** Shortens node_modules/.pnpm/x@1/node_modules/x/dist/y.js to x/dist/y.js. */
export function shortFile(url: string): string {
  if (!url) return "(native, GC, idle)";
  const path = url.replace(/^file:\/\//, "");
  const inModules = path.lastIndexOf("node_modules/");
  if (inModules >= 0) return path.slice(inModules + "node_modules/".length);
  return path.replace(/^.*?\/(apps|packages|bench)\//, "$1/");
}

const nameOf = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"}${url ? ` ${shortFile(url)}:${lineNumber + 1}` : ""}`;
};

export interface ProfileWindow {
  /** Only samples taken between these times (profileClockNow() values) count. */
  fromUs?: number;
  toUs?: number;
}

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/**
 * Self time (ms) within the window, added up by `keyOf(frame)`; frames it maps to null are left
 * out (e.g. "(idle)", which is not CPU).
 */
export function selfTimeBy(file: string, window: ProfileWindow, keyOf: (frame: CallFrame) => string | null): Map<string, number> {
  const profile = CpuProfile.parse(JSON.parse(readFileSync(file, "utf8")));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const out = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if ((window.fromUs !== undefined && at < window.fromUs) || (window.toUs !== undefined && at > window.toUs)) return;
    const node = byId.get(id);
    const key = node ? keyOf(node.callFrame) : null;
    if (key !== null) out.set(key, (out.get(key) ?? 0) + delta / 1000);
  });
  return out;
}

export function summarizeProfile(file: string, top = 12, window: ProfileWindow = {}, ownCode = /apps\/web\/dist\/|packages\/cli\/dist\//): ProfileSummary {
  const profile = CpuProfile.parse(JSON.parse(readFileSync(file, "utf8")));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if ((window.fromUs !== undefined && at < window.fromUs) || (window.toUs !== undefined && at > window.toUs)) return;
    selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  });
  const totalMs = [...selfMs.values()].reduce((sum, value) => sum + value, 0);

  const files = new Map<string, number>();
  const self = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    files.set(shortFile(node.callFrame.url), (files.get(shortFile(node.callFrame.url)) ?? 0) + ms);
    self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + ms);
  }

  // Total time: a node's self time plus its callees', counted once per function on a stack (recursion).
  const total = new Map<string, number>();
  const root = profile.nodes[0];
  const visit = (node: ProfileNode, active: Set<string>): number => {
    let sum = selfMs.get(node.id) ?? 0;
    const name = nameOf(node);
    const counted = !active.has(name) && node.callFrame.url !== "";
    if (counted) active.add(name);
    for (const childId of node.children ?? []) {
      const child = byId.get(childId);
      if (child) sum += visit(child, active);
    }
    if (counted) {
      active.delete(name);
      total.set(name, (total.get(name) ?? 0) + sum);
    }
    return sum;
  };
  if (root) visit(root, new Set());

  const ranked = (map: Map<string, number>, filter: (name: string) => boolean = () => true) =>
    [...map.entries()]
      .filter(([name]) => filter(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: totalMs > 0 ? ms / totalMs : 0 }));
  return {
    totalMs,
    byFile: ranked(files),
    bySelf: ranked(self),
    // Leave out the event loop's own frames, which contain everything.
    byTotal: ranked(total, (name) => !/^(\(anonymous\)|processTicksAndRejections|runMicrotasks|emit|listOnTimeout|processTimers) node:/.test(name)),
    byTotalOwn: ranked(total, (name) => ownCode.test(name)),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const table = (rows: ProfileSummary["byFile"]) =>
    rows.map((row) => `  ${(row.share * 100).toFixed(1).padStart(5)} %  ${row.ms.toFixed(0).padStart(6)} ms  ${row.name}`);
  return [
    `sampled: ${summary.totalMs.toFixed(0)} ms of CPU`,
    "",
    "self time by file:",
    ...table(summary.byFile),
    "",
    "self time by function:",
    ...table(summary.bySelf),
    "",
    "total time (with callees) by function:",
    ...table(summary.byTotal),
    "",
    "total time (with callees) of the project's own functions (bundled, names as in the bundle):",
    ...table(summary.byTotalOwn),
  ].join("\n");
}
