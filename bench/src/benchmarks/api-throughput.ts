// 1. API throughput and latency: environment.list on the production server (read-only token,
// and session cookie) against a bare node:http handler doing the same Prisma read, both loaded
// by autocannon from a separate process, 20 and 50 connections.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "@ona/db";
import { autocannon, type LoadResult } from "../lib/autocannon";
import { cpuTimeMs } from "../lib/processes";
import type { Benchmark, BenchContext } from "../lib/context";
import { createToken, signUp, trpcQueryPath } from "../lib/http";
import { formatProfile, profileClockNow, selfTimeBy, summarizeProfile, type CallFrame, type ProfileWindow } from "../lib/profile";
import { codeBlock, verdictOf, type ResultRow, type SectionResult } from "../lib/report";
import { defaultEnvironmentClass, seedEnvironments } from "../lib/seed";
import { startBareServer, startProductionServer, type ProductionServer } from "../lib/servers";
import { ms, percent, times } from "../lib/stats";

const PAGE_SIZE = 20;
const SEEDED = 50;
const CONNECTIONS = [20, 50] as const;
const THROUGHPUT_TARGET = 0.5;
const P99_TARGET = 3;
const ROUNDS = 2;

type Variant = "bare" | "token" | "cookie";

interface Target {
  url: string;
  headers: Record<string, string>;
}

const describeRun = (result: Measured): string =>
  `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, server CPU ${ms(result.cpuPerRequest)}/request` +
  (result.failures > 0 ? ` (${result.failures} failed requests!)` : "");

interface Measured extends LoadResult {
  /** The server process's CPU time (user + system) per request during the measured run, in ms. */
  cpuPerRequest: number;
}

async function load(context: BenchContext, target: Target, connections: number, pid: number): Promise<Measured> {
  await autocannon({ ...target, connections, durationSeconds: context.warmupSeconds });
  const cpuBefore = cpuTimeMs(pid);
  const result = await autocannon({ ...target, connections, durationSeconds: context.loadSeconds });
  return { ...result, cpuPerRequest: (cpuTimeMs(pid) - cpuBefore) / Math.max(result.total, 1) };
}

/** Where a profile sample's CPU went, by the code that ran (self time). */
function componentOf(frame: CallFrame): string | null {
  const { functionName, url } = frame;
  if (functionName === "(idle)") return null;
  if (functionName === "(garbage collector)") return "garbage collection";
  if (url.includes("@prisma/client") || url.startsWith("wasm://")) return "Prisma client (query compiler and interpreter)";
  if (/@prisma\/adapter|better-sqlite3|\/pg\/|pg-pool|pg-protocol/.test(url)) return "database driver (Prisma adapter, better-sqlite3)";
  if (url.includes("@trpc/")) return "tRPC";
  if (url.includes("/zod/")) return "zod (input and output validation)";
  if (/better-auth|better-call|@better-auth|jose|kysely|defu|rou3/.test(url)) return "better-auth";
  if (url.includes("apps/web/dist/") || url.includes("bench/dist/")) return "Ona's own code (bundled)";
  if (/undici|webstreams|abort_controller|event_target|internal\/url|internal\/encoding|internal\/blob|internal\/structured_clone/.test(url)) {
    return "Fetch API objects (Request, Headers, streams, AbortController, URL)";
  }
  if (/node:_http|node:net|node:stream|internal\/streams|stream_base_commons|node:events/.test(url) || /^(writev|writeUtf8String|writeBuffer)$/.test(functionName)) {
    return "node:http, sockets and streams";
  }
  if (url === "") return "V8 and native (program, builtins)";
  return "other Node.js internals and libraries";
}

interface ProfiledRun {
  label: string;
  requests: number;
  file: string;
  window: ProfileWindow;
}

/** µs of CPU per request by component, one column per run. */
function componentTable(runs: ProfiledRun[]): string {
  const columns = runs.map((run) => {
    const byComponent = selfTimeBy(run.file, run.window, componentOf);
    return new Map([...byComponent].map(([key, ms]) => [key, (ms * 1000) / Math.max(run.requests, 1)]));
  });
  const components = [...new Set(columns.flatMap((column) => [...column.keys()]))].sort(
    (a, b) => (columns[1]?.get(b) ?? 0) - (columns[1]?.get(a) ?? 0),
  );
  const width = Math.max(...components.map((component) => component.length), 10);
  const cell = (value: number) => `${value.toFixed(0)} µs`.padStart(9);
  const lines = [`${"CPU per request".padEnd(width)}  ${runs.map((run) => run.label.padStart(9)).join("  ")}`];
  for (const component of components) {
    lines.push(`${component.padEnd(width)}  ${columns.map((column) => cell(column.get(component) ?? 0)).join("  ")}`);
  }
  const totals = columns.map((column) => [...column.values()].reduce((sum, value) => sum + value, 0));
  lines.push(`${"total".padEnd(width)}  ${totals.map(cell).join("  ")}`);
  return lines.join("\n");
}

/**
 * CPU profiles (node --cpu-prof) of the bare handler and of the production server serving the
 * token and cookie paths at 20 connections: the CPU each request costs, by component, and the
 * token path's hottest functions.
 */
async function profileServers(context: BenchContext): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "ona-bench-prof-"));
  const profArgs = (name: string) => ["--cpu-prof", `--cpu-prof-dir=${join(dir, name)}`];
  const server = await startProductionServer({ nodeArgs: profArgs("server") });
  const runs: { label: string; requests: number; window: ProfileWindow; process: "server" | "bare" }[] = [];
  try {
    const { account, token } = await prepare(server);
    const bare = await startBareServer({ databaseUrl: server.databaseUrl, userId: account.userId, pageSize: PAGE_SIZE, nodeArgs: profArgs("bare") });
    try {
      const path = trpcQueryPath("environment.list", { pageSize: PAGE_SIZE });
      const targets: { label: string; process: "bare" | "server"; url: string; headers: Record<string, string> }[] = [
        { label: "bare", process: "bare", url: `${bare.url}/`, headers: {} },
        { label: "token", process: "server", url: `${server.url}${path}`, headers: { authorization: `Bearer ${token}` } },
        { label: "cookie", process: "server", url: `${server.url}${path}`, headers: { cookie: account.cookie } },
      ];
      for (const target of targets) {
        await autocannon({ ...target, connections: 20, durationSeconds: context.warmupSeconds });
        const fromUs = profileClockNow();
        const result = await autocannon({ ...target, connections: 20, durationSeconds: context.quick ? 3 : 10 });
        runs.push({ label: target.label, requests: result.total, window: { fromUs, toUs: profileClockNow() }, process: target.process });
      }
    } finally {
      await bare.stop();
    }
  } finally {
    await server.stop();
  }
  const profileOf = (name: string): string => {
    const file = readdirSync(join(dir, name)).find((entry) => entry.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no CPU profile was written for the ${name} process`);
    return join(dir, name, file);
  };
  const profiled: ProfiledRun[] = runs.map((run) => ({ ...run, file: profileOf(run.process) }));
  const token = profiled.find((run) => run.label === "token");
  const details = [`CPU per request by component (self time from \`node --cpu-prof\`, idle excluded), 20 connections:\n\n${codeBlock(componentTable(profiled))}`];
  if (token) {
    details.push(`The token path's profile (self and total time):\n\n${codeBlock(formatProfile(summarizeProfile(token.file, 15, token.window)))}`);
  }
  rmSync(dir, { recursive: true, force: true });
  return details;
}

/** A user with SEEDED environments, a read-only token and a session cookie on a fresh server. */
async function prepare(server: ProductionServer) {
  const account = await signUp(server.url, "bench-api@example.com");
  const token = await createToken(server.url, account, "read-only");
  const database = await openDatabase(server.databaseUrl);
  try {
    const environmentClass = await defaultEnvironmentClass(database.db);
    await seedEnvironments(database, {
      userId: account.userId,
      classId: environmentClass.id,
      runnerId: environmentClass.runnerId,
      from: 0,
      to: SEEDED,
    });
  } finally {
    await database.close();
  }
  return { account, token: token.secret };
}

async function run(context: BenchContext): Promise<SectionResult> {
  const server = await startProductionServer();
  const rows: ResultRow[] = [];
  const details: string[] = [];
  try {
    const { account, token } = await prepare(server);
    const bare = await startBareServer({ databaseUrl: server.databaseUrl, userId: account.userId, pageSize: PAGE_SIZE });
    try {
      const path = trpcQueryPath("environment.list", { pageSize: PAGE_SIZE });
      const pids: Record<Variant, number> = { bare: bare.pid, token: server.pid, cookie: server.pid };
      const targets: Record<Variant, Target> = {
        bare: { url: `${bare.url}/`, headers: {} },
        token: { url: `${server.url}${path}`, headers: { authorization: `Bearer ${token}` } },
        cookie: { url: `${server.url}${path}`, headers: { cookie: account.cookie } },
      };
      // Same answer from both: 20 environments, in the same order.
      const ids = async (target: Target) => {
        const body: unknown = await (await fetch(target.url, { headers: target.headers })).json();
        return JSON.stringify(body).match(/"id":"cbenv[^"]*"/g)?.join(",") ?? "";
      };
      const [bareIds, apiIds] = await Promise.all([ids(targets.bare), ids(targets.token)]);
      if (bareIds !== apiIds || bareIds.split(",").length !== PAGE_SIZE) {
        throw new Error("the bare handler and environment.list do not return the same page");
      }

      // Each variant runs ROUNDS times, interleaved with the others; the better run counts, so that
      // a burst of other work on the machine during one run does not decide the ratio.
      const best = new Map<string, Measured>();
      const rounds = context.quick ? 1 : ROUNDS;
      for (let round = 1; round <= rounds; round++) {
        for (const connections of CONNECTIONS) {
          for (const variant of ["bare", "token", "cookie"] as const) {
            context.log(`  ${variant}, ${connections} connections, ${context.loadSeconds} s (round ${round} of ${rounds})`);
            const result = await load(context, targets[variant], connections, pids[variant]);
            context.log(`    ${describeRun(result)}`);
            const key = `${variant}@${connections}`;
            const previous = best.get(key);
            if (!previous || result.requestsPerSecond > previous.requestsPerSecond) best.set(key, result);
          }
        }
      }
      for (const connections of CONNECTIONS) {
        const resultOf = (variant: Variant): Measured => {
          const result = best.get(`${variant}@${connections}`);
          if (!result) throw new Error(`no result for ${variant} at ${connections} connections`);
          return result;
        };
        const results: Record<Variant, Measured> = { bare: resultOf("bare"), token: resultOf("token"), cookie: resultOf("cookie") };
        const floor = results.bare;
        rows.push({
          measurement: `bare node:http + Prisma, ${connections} conn: req/s (p50 / p99)`,
          value: `${floor.requestsPerSecond.toFixed(0)} (${ms(floor.p50)} / ${ms(floor.p99)})`,
          verdict: "info",
        });
        for (const variant of ["token", "cookie"] as const) {
          const result = results[variant];
          const label = variant === "token" ? "read-only token" : "session cookie";
          const throughputMet = result.failures === 0 && result.requestsPerSecond >= THROUGHPUT_TARGET * floor.requestsPerSecond;
          rows.push({
            measurement: `environment.list, ${label}, ${connections} conn: req/s`,
            value: result.requestsPerSecond.toFixed(0) + (result.failures > 0 ? ` (${result.failures} failed)` : ""),
            baseline: floor.requestsPerSecond.toFixed(0),
            ratio: percent(result.requestsPerSecond, floor.requestsPerSecond),
            target: "≥ 50 %",
            verdict: verdictOf(throughputMet),
          });
          rows.push({
            measurement: `environment.list, ${label}, ${connections} conn: p50 / p99`,
            value: `${ms(result.p50)} / ${ms(result.p99)}`,
            baseline: `${ms(floor.p50)} / ${ms(floor.p99)}`,
            ratio: `${times(result.p50, floor.p50)} / ${times(result.p99, floor.p99)}`,
            target: "p99 ≤ 3×",
            verdict: verdictOf(result.p99 <= P99_TARGET * Math.max(floor.p99, 1)),
          });
          rows.push({
            measurement: `environment.list, ${label}, ${connections} conn: server CPU per request`,
            value: ms(result.cpuPerRequest),
            baseline: ms(floor.cpuPerRequest),
            ratio: times(result.cpuPerRequest, floor.cpuPerRequest),
            verdict: "info",
          });
        }
      }
    } finally {
      await bare.stop();
    }
  } finally {
    await server.stop();
  }

  context.log("  profiling the bare handler and the production server under load");
  const profiles = await profileServers(context);
  details.push(
    `Each run: ${context.warmupSeconds} s warm-up, then ${context.loadSeconds} s measured; autocannon in its own process; ` +
      `${context.quick ? 1 : ROUNDS} rounds of all six runs, interleaved, and each variant's better round is reported; ` +
      `requests/s is autocannon's mean of per-second samples; latencies have 1 ms resolution. The user has ${SEEDED} environments; ` +
      `each request reads a page of ${PAGE_SIZE} (+1). The bare handler is bundled like the production server and maps rows with ` +
      "the same toEnvironment(); the production server also runs its embedded runner (polling once a second), as in use. " +
      "Server CPU per request = the server process's user + system CPU time during the measured run / requests answered: " +
      "less disturbed by other load on the machine than requests/s, and on a machine with a free core for the load generator " +
      "throughput is about 1 / that.",
    ...profiles,
  );
  return { id: "api", title: "1. API throughput and latency (SQLite)", rows, details };
}

export const apiThroughput: Benchmark = { id: "api", title: "API throughput and latency", run };
