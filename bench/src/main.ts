// `pnpm bench`: runs every benchmark of issue 8, prints one table and writes bench/results.md.
//   --quick        short runs for development (results.md is not written)
//   --only=a,b     run some benchmarks only (api, auth, cli, env, list, web, sandbox; results.md is not written)
//   --build        build the web server and the CLI first (else the existing builds are used)
//   --wait-idle    wait (up to 60 min) until the 1-minute load average is below 0.7 before starting
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { apiThroughput } from "./benchmarks/api-throughput";
import { authCost } from "./benchmarks/auth-cost";
import { cliStartup } from "./benchmarks/cli-startup";
import { environmentStart } from "./benchmarks/environment-start";
import { listScaling } from "./benchmarks/list-scaling";
import { sandboxCost } from "./benchmarks/sandbox-cost";
import { webFirstLoad } from "./benchmarks/web-first-load";
import type { Benchmark, BenchContext } from "./lib/context";
import { formatLoad, machineInfo } from "./lib/machine";
import { BENCH_DIR, CLI_BIN, NEXT_DIR, REPO_ROOT, RESULTS_FILE, SERVER_ENTRY } from "./lib/paths";
import { stopSharedPostgres } from "./lib/postgres";
import { runChecked } from "./lib/processes";
import { formatTable, markdownTable, targetsOf, type SectionResult } from "./lib/report";
import { sleep } from "./lib/stats";

const BENCHMARKS: Benchmark[] = [apiThroughput, authCost, cliStartup, environmentStart, listScaling, webFirstLoad, sandboxCost];

function parseArgs(argv: string[]) {
  const quick = argv.includes("--quick");
  const build = argv.includes("--build");
  const waitIdle = argv.includes("--wait-idle");
  const onlyArg = argv.find((arg) => arg.startsWith("--only="));
  const only = onlyArg ? onlyArg.slice("--only=".length).split(",").filter(Boolean) : null;
  const known = new Set(["--quick", "--build", "--wait-idle", "--"]);
  const unknown = argv.filter((arg) => !known.has(arg) && !arg.startsWith("--only="));
  if (unknown.length > 0) {
    console.error(`unknown option ${unknown.join(" ")}: use --quick, --build, --wait-idle, --only=${BENCHMARKS.map((b) => b.id).join(",")}`);
    process.exit(2);
  }
  for (const id of only ?? []) {
    if (!BENCHMARKS.some((benchmark) => benchmark.id === id)) {
      console.error(`unknown benchmark "${id}": choose from ${BENCHMARKS.map((b) => b.id).join(", ")}`);
      process.exit(2);
    }
  }
  return { quick, build, waitIdle, only };
}

const builtAt = (path: string): string => (existsSync(path) ? statSync(path).mtime.toISOString() : "missing");

/** The newest modification time (ms) of the files under these folders (node_modules left out). */
function newestSource(dirs: string[]): number {
  let newest = 0;
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name === "test") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of dirs) if (existsSync(dir)) visit(dir);
  return newest;
}

const SERVER_SOURCES = ["apps/web/src", "packages/api/src", "packages/db/src", "packages/runner/src", "packages/contracts/src"];
const CLI_SOURCES = ["packages/cli/src", "packages/cli/scripts", "packages/sdk/src", "packages/contracts/src"];

/**
 * The benchmarks measure the built server and CLI, so they must be built from the code as it is:
 * a bundle older than its sources is rebuilt (esbuild, seconds). Next's pages are built only when
 * missing, or with --build (which rebuilds everything).
 */
async function ensureBuilds(force: boolean): Promise<void> {
  if (force || !existsSync(join(NEXT_DIR, "BUILD_ID"))) {
    console.error("building the web app and the CLI");
    await runChecked("pnpm", ["turbo", "run", "build", "--filter=@ona/web", "--filter=@ona/cli"], { cwd: REPO_ROOT });
    return;
  }
  const stale = (file: string, sources: string[]) => !existsSync(file) || statSync(file).mtimeMs < newestSource(sources.map((dir) => join(REPO_ROOT, dir)));
  if (stale(SERVER_ENTRY, SERVER_SOURCES)) {
    console.error("apps/web/dist/server.js is older than its sources: rebuilding it");
    await runChecked(process.execPath, ["scripts/build-server.mjs"], { cwd: join(REPO_ROOT, "apps/web") });
  }
  if (stale(CLI_BIN, CLI_SOURCES)) {
    console.error("packages/cli/dist/ona.js is older than its sources: rebuilding it");
    await runChecked(process.execPath, ["scripts/build.mjs"], { cwd: join(REPO_ROOT, "packages/cli") });
  }
}

function writeResults(
  file: string,
  sections: SectionResult[],
  machine: ReturnType<typeof machineInfo>,
  meta: { loadAfter: string; minutes: string; partial: string | null },
): void {
  const { met, missed } = targetsOf(sections);
  const findingsFile = join(BENCH_DIR, "findings.md");
  const findings = existsSync(findingsFile) ? readFileSync(findingsFile, "utf8").trim() : "";
  const lines: string[] = [
    "# Benchmark results",
    "",
    ...(meta.partial
      ? [`**Not a full run (${meta.partial}): for development only.**`, ""]
      : [
          "Written by `pnpm bench` (a full run; `--quick` and `--only` runs write bench/.work/ instead). Issue 8: each",
          "number is measured next to its baseline in the same run, on loopback.",
          "",
        ]),
    "## Machine",
    "",
    "| | |",
    "| --- | --- |",
    `| CPU | ${machine.cpu} |`,
    `| Cores | ${machine.cores} |`,
    `| Memory | ${machine.memory} |`,
    `| OS | ${machine.os} |`,
    `| Node | ${machine.node} |`,
    `| Date | ${machine.date} |`,
    `| Load average (1 / 5 / 15 min) at start | ${machine.loadAverage} |`,
    `| Load average at end | ${meta.loadAfter} |`,
    `| Commit | ${machine.gitCommit} |`,
    `| Builds used | server.js ${builtAt(SERVER_ENTRY)}, .next ${builtAt(join(NEXT_DIR, "BUILD_ID"))}, ona.js ${builtAt(CLI_BIN)} |`,
    `| Run time | ${meta.minutes} min |`,
    "",
    "## Targets",
    "",
    `${met.length} met, ${missed.length} missed.`,
    "",
    ...missed.map((row) => `- **missed**: ${row.measurement}: ${row.value} (baseline ${row.baseline ?? "–"}, ratio ${row.ratio ?? "–"}, target ${row.target ?? "–"})`),
    ...met.map((row) => `- met: ${row.measurement}: ${row.value}${row.ratio ? ` (${row.ratio})` : ""}, target ${row.target ?? "–"}`),
    "",
  ];
  if (findings) lines.push(findings, "");
  lines.push("## All numbers", "");
  for (const section of sections) {
    lines.push(`### ${section.title}`, "", markdownTable(section.rows), "");
    for (const detail of section.details) lines.push(detail, "");
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join("\n").trimEnd()}\n`);
}

const IDLE_LOAD = 0.7;

/** Numbers taken on a busy machine mean little: wait for the others' work to finish. */
async function waitForIdle(): Promise<void> {
  const deadline = Date.now() + 60 * 60_000;
  while ((loadavg()[0] ?? 0) >= IDLE_LOAD && Date.now() < deadline) {
    console.error(`waiting for the machine to calm down: load average ${formatLoad()}`);
    await sleep(30_000);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.waitIdle) await waitForIdle();
  const started = Date.now();
  const machine = machineInfo();
  const [load1] = loadavg();
  console.error(`Ona benchmarks${args.quick ? " (quick)" : ""}: ${machine.cpu}, ${machine.cores} cores, ${machine.memory}, Node ${machine.node}`);
  console.error(`load average ${machine.loadAverage}`);
  if ((load1 ?? 0) >= IDLE_LOAD) console.error("warning: the machine is busy (load average ≥ 0.7): the numbers will be noisy");
  await ensureBuilds(args.build);

  const context: BenchContext = {
    quick: args.quick,
    loadSeconds: args.quick ? 3 : 20,
    warmupSeconds: args.quick ? 1 : 3,
    log: (message) => console.error(message),
  };
  const selected = BENCHMARKS.filter((benchmark) => !args.only || args.only.includes(benchmark.id));
  const sections: SectionResult[] = [];
  let failed = false;
  try {
    for (const benchmark of selected) {
      console.error(`\n▶ ${benchmark.title}`);
      const benchStart = Date.now();
      try {
        sections.push(await benchmark.run(context));
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        console.error(`✗ ${benchmark.title} failed: ${message}`);
        sections.push({
          id: benchmark.id,
          title: benchmark.title,
          rows: [{ measurement: "benchmark failed", value: message.split("\n")[0] ?? "", verdict: "info" }],
          details: [],
        });
      }
      console.error(`  (${((Date.now() - benchStart) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await stopSharedPostgres();
  }

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`\n${formatTable(sections)}\n`);
  const { met, missed } = targetsOf(sections);
  console.log(`${met.length} targets met, ${missed.length} missed; ${minutes} min; load average now ${formatLoad()}`);
  const partial = failed ? "a benchmark failed" : args.quick ? "quick run" : args.only ? `only ${args.only.join(", ")}` : null;
  const file = partial ? join(BENCH_DIR, ".work/results-partial.md") : RESULTS_FILE;
  writeResults(file, sections, machine, { loadAfter: formatLoad(), minutes, partial });
  console.log(partial ? `${RESULTS_FILE} not written (${partial}); wrote ${file}` : `wrote ${file}`);
  if (failed) process.exitCode = 1;
}

await main();
