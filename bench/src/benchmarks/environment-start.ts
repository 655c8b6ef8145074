// 4. Environment start: create → RUNNING on the embedded local runner for a small local git
// repository, 20 one after another (median), then 20 created at once.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { EnvironmentOutput, ListEnvironmentsOutput, LogsOutput, type Environment } from "@ona/contracts";
import type { Benchmark, BenchContext } from "../lib/context";
import { createToken, signUp, trpcMutation, trpcQuery, type Credentials } from "../lib/http";
import { codeBlock, verdictOf, type ResultRow, type SectionResult } from "../lib/report";
import { startProductionServer } from "../lib/servers";
import { median, ms, percentile, sleep } from "../lib/stats";

const RUNNING = "ENVIRONMENT_PHASE_RUNNING";
const TARGET_MS = 1000;

/**
 * A small local git repository, in a folder of its own that the server is told it may clone from
 * (ONA_LOCAL_REPOSITORIES, see `repositoryEnv`), readable by the environments' users.
 */
export function smallRepository(): string {
  const parent = mkdtempSync(join(tmpdir(), "ona-bench-repos-"));
  chmodSync(parent, 0o755);
  const dir = join(parent, "repo");
  mkdirSync(dir, { mode: 0o755 });
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      stdio: "ignore",
      env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.com", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.com" },
    });
  git("init", "-q", "-b", "main");
  writeFileSync(join(dir, "README.md"), "# bench\n");
  writeFileSync(join(dir, "index.js"), "console.log('hello');\n");
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return dir;
}

/** The server setting that lets it clone `repo`. */
export const repositoryEnv = (repo: string): Record<string, string> => ({ ONA_LOCAL_REPOSITORIES: dirname(repo) });

/** Removes the repository and the folder made for it. */
export const removeRepository = (repo: string): void => rmSync(dirname(repo), { recursive: true, force: true });

function failed(environment: Environment): string | null {
  return environment.status.failureMessage.length > 0 ? environment.status.failureMessage.join("; ") : null;
}

async function createOne(url: string, credentials: Credentials, repo: string): Promise<string> {
  const created = await trpcMutation(url, "environment.create", { contextUrl: repo }, credentials, EnvironmentOutput);
  return created.environment.id;
}

/** create → RUNNING, polling environment.get every 10 ms. */
export async function startOne(url: string, credentials: Credentials, repo: string): Promise<{ id: string; ms: number }> {
  const start = performance.now();
  const id = await createOne(url, credentials, repo);
  for (;;) {
    const { environment } = await trpcQuery(url, "environment.get", { id }, credentials, EnvironmentOutput);
    if (environment.status.phase === RUNNING) return { id, ms: performance.now() - start };
    const failure = failed(environment);
    if (failure) throw new Error(`environment ${id} failed: ${failure}`);
    if (performance.now() - start > 120_000) throw new Error(`environment ${id} did not reach RUNNING in 120 s`);
    await sleep(10);
  }
}

/** `count` creates at once; each one's time to RUNNING from the common start (polling the list every 25 ms). */
async function startMany(url: string, credentials: Credentials, repo: string, count: number): Promise<number[]> {
  const start = performance.now();
  const ids = await Promise.all(Array.from({ length: count }, () => createOne(url, credentials, repo)));
  const done = new Map<string, number>();
  while (done.size < ids.length) {
    const page = await trpcQuery(url, "environment.list", { pageSize: 100 }, credentials, ListEnvironmentsOutput);
    const now = performance.now() - start;
    for (const environment of page.items) {
      if (!ids.includes(environment.id) || done.has(environment.id)) continue;
      if (environment.status.phase === RUNNING) done.set(environment.id, now);
      const failure = failed(environment);
      if (failure) throw new Error(`environment ${environment.id} failed: ${failure}`);
    }
    if (now > 300_000) throw new Error(`only ${done.size} of ${count} environments reached RUNNING in 300 s`);
    await sleep(25);
  }
  return [...done.values()];
}

interface Timeline {
  text: string;
  /** From createdAt to the runner's first log line: waiting to be picked up. */
  pickupMs: number;
  /** From the first log line to "environment is running": the runner's own work (clone, setup, start). */
  workMs: number;
}

/** The runner's log of one environment, with times relative to its creation. */
async function timeline(url: string, credentials: Credentials, id: string): Promise<Timeline> {
  const { environment } = await trpcQuery(url, "environment.get", { id }, credentials, EnvironmentOutput);
  const created = Date.parse(environment.metadata.createdAt);
  const { lines } = await trpcQuery(url, "environment.logs", { id }, credentials, LogsOutput);
  const first = lines[0] ? Date.parse(lines[0].at) : Number.NaN;
  const last = lines[lines.length - 1] ? Date.parse(lines[lines.length - 1]?.at ?? "") : Number.NaN;
  return {
    text: lines.map((line) => `+${String(Date.parse(line.at) - created).padStart(5)} ms  ${line.stream.padEnd(6)} ${line.text}`).join("\n"),
    pickupMs: first - created,
    workMs: last - first,
  };
}

async function run(context: BenchContext): Promise<SectionResult> {
  const repo = smallRepository();
  const server = await startProductionServer({ env: repositoryEnv(repo) });
  const rows: ResultRow[] = [];
  const details: string[] = [];
  try {
    const account = await signUp(server.url, "bench-env@example.com");
    const token = await createToken(server.url, account, "read-write");
    const credentials: Credentials = { token: token.secret };
    const count = context.quick ? 5 : 20;

    await startOne(server.url, credentials, repo); // warm-up: first clone, JIT, page cache
    const sequential: { id: string; ms: number }[] = [];
    for (let i = 0; i < count; i++) {
      // A pause spread evenly over 0–1 s (golden-ratio sequence), so that the creates do not fall in
      // step with the runner's once-a-second poll: a user's create comes at any moment of it.
      await sleep(((i * 0.6180339887) % 1) * 1000);
      sequential.push(await startOne(server.url, credentials, repo));
    }
    const times = sequential.map((sample) => sample.ms);
    const typical = median(times);
    rows.push({
      measurement: `create → RUNNING, one at a time (median of ${count})`,
      value: `${ms(typical)} (min ${ms(Math.min(...times))}, p90 ${ms(percentile(times, 90))}, max ${ms(Math.max(...times))})`,
      target: "≤ 1 s",
      verdict: verdictOf(typical <= TARGET_MS),
    });

    const timelines = await Promise.all(sequential.map((sample) => timeline(server.url, credentials, sample.id)));
    rows.push({
      measurement: "  of which waiting for the runner to pick it up (median)",
      value: ms(median(timelines.map((t) => t.pickupMs))),
      verdict: "info",
    });
    rows.push({
      measurement: "  of which the runner's work: clone, setup, start (median)",
      value: ms(median(timelines.map((t) => t.workMs))),
      verdict: "info",
    });

    const together = await startMany(server.url, credentials, repo, count);
    rows.push({
      measurement: `${count} created at once → all RUNNING`,
      value: `${ms(Math.max(...together))} (median ${ms(median(together))}, first ${ms(Math.min(...together))})`,
      baseline: `${count} × one at a time: ${ms(count * typical)}`,
      verdict: "info",
    });

    const closest = sequential.reduce((best, sample) => (Math.abs(sample.ms - typical) < Math.abs(best.ms - typical) ? sample : best));
    const typicalTimeline = timelines[sequential.indexOf(closest)];
    details.push(
      `The repository is a local git repository with two files; the runner is the embedded local runner of the production server ` +
        `(its default settings). One at a time: a pause of 0–1 s (spread evenly) before each create, then environment.get polled every ` +
        `10 ms; at once: environment.list polled every 25 ms. "Waiting" is createdAt → the runner's first log line; "work" is the ` +
        `first log line → "environment is running".`,
      `Runner log of a typical environment (${ms(closest.ms)} to RUNNING), times from its createdAt:\n\n${codeBlock(typicalTimeline?.text ?? "")}`,
    );
  } finally {
    await server.stop();
    removeRepository(repo);
  }
  return { id: "env", title: "4. Environment start", rows, details };
}

export const environmentStart: Benchmark = { id: "env", title: "Environment start", run };
