// 7. What the sandbox costs: create → RUNNING and an exec round trip on the embedded runner,
// sandboxed (the default) against single-user mode (ONA_RUNTIME=host), in one run.
import { ExecOutput } from "@ona/contracts";
import type { Benchmark, BenchContext } from "../lib/context";
import { createToken, signUp, trpcMutation, type Credentials } from "../lib/http";
import { verdictOf, type ResultRow, type SectionResult } from "../lib/report";
import { startProductionServer } from "../lib/servers";
import { median, ms, percentile } from "../lib/stats";
import { removeRepository, repositoryEnv, smallRepository, startOne } from "./environment-start";

const EXEC_TARGET_MS = 50;
const START_TARGET_RATIO = 1.2;

interface ModeTimes {
  start: number[];
  exec: number[];
}

async function measure(mode: "sandbox" | "host", repo: string, count: number): Promise<ModeTimes> {
  const server = await startProductionServer({ env: { ...repositoryEnv(repo), ONA_RUNTIME: mode } });
  try {
    const account = await signUp(server.url, `bench-${mode}@example.com`);
    const credentials: Credentials = { token: (await createToken(server.url, account, "read-write")).secret };
    await startOne(server.url, credentials, repo); // warm-up
    const start: number[] = [];
    let id = "";
    for (let i = 0; i < count; i++) {
      const started = await startOne(server.url, credentials, repo);
      start.push(started.ms);
      id = started.id;
    }
    const exec: number[] = [];
    for (let i = 0; i < count * 5; i++) {
      const began = performance.now();
      const result = await trpcMutation(server.url, "environment.exec", { id, command: ["true"] }, credentials, ExecOutput);
      if (result.exitCode !== 0) throw new Error(`exec failed in ${mode} mode: ${result.stderr}`);
      exec.push(performance.now() - began);
    }
    return { start, exec };
  } finally {
    await server.stop();
  }
}

async function run(context: BenchContext): Promise<SectionResult> {
  const repo = smallRepository();
  const count = context.quick ? 5 : 20;
  try {
    // Alternated, so that a machine getting busier does not favour one mode.
    const host = await measure("host", repo, count);
    const sandbox = await measure("sandbox", repo, count);
    const execAdded = median(sandbox.exec) - median(host.exec);
    const startRatio = median(sandbox.start) / median(host.start);
    const rows: ResultRow[] = [
      {
        measurement: `exec round trip (\`true\`), sandboxed (median of ${count * 5})`,
        value: `${ms(median(sandbox.exec))} (p90 ${ms(percentile(sandbox.exec, 90))})`,
        baseline: `single-user mode: ${ms(median(host.exec))} (p90 ${ms(percentile(host.exec, 90))})`,
        ratio: `${execAdded >= 0 ? "+" : "−"}${ms(Math.abs(execAdded))}`,
        target: `≤ +${EXEC_TARGET_MS} ms`,
        verdict: verdictOf(execAdded <= EXEC_TARGET_MS),
      },
      {
        measurement: `create → RUNNING, sandboxed (median of ${count})`,
        value: `${ms(median(sandbox.start))} (p90 ${ms(percentile(sandbox.start, 90))})`,
        baseline: `single-user mode: ${ms(median(host.start))} (p90 ${ms(percentile(host.start, 90))})`,
        ratio: `×${startRatio.toFixed(2)}`,
        target: `≤ ×${START_TARGET_RATIO}`,
        verdict: verdictOf(startRatio <= START_TARGET_RATIO),
      },
    ];
    const details = [
      `Both servers are the built production server with its embedded runner, the same small local repository, ` +
        `${process.getuid?.() === 0 ? "run as root (so each sandbox also gets a host uid, a disk image and control groups of its own)" : "run as a regular user"}. ` +
        `An exec is \`environment.exec\` of \`true\` over HTTP with a read & write token, one after another, in the last environment created.`,
    ];
    return { id: "sandbox", title: "7. Sandbox cost", rows, details };
  } finally {
    removeRepository(repo);
  }
}

export const sandboxCost: Benchmark = { id: "sandbox", title: "Sandbox cost", run };
