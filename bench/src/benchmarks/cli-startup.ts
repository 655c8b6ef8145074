// 3. CLI start-up: `ona --version` and `ona environment list -o json` (warm server) against
// `node -e 0`, median of 20 runs each, interleaved; the bundle's size; a CPU profile of each.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { openDatabase } from "@ona/db";
import type { Benchmark, BenchContext } from "../lib/context";
import { createToken, signUp, timedGet, trpcQueryPath } from "../lib/http";
import { CLI_BIN } from "../lib/paths";
import { runChecked } from "../lib/processes";
import { formatProfile, summarizeProfile } from "../lib/profile";
import { codeBlock, verdictOf, type ResultRow, type SectionResult } from "../lib/report";
import { defaultEnvironmentClass, seedEnvironments } from "../lib/seed";
import { startProductionServer } from "../lib/servers";
import { bytes, median, ms, percentile, times } from "../lib/stats";

const RUNS = 20;
const TARGET = 1.5;
const ENVIRONMENTS = 20;

async function cpuProfile(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "ona-bench-cliprof-"));
  try {
    await runChecked(process.execPath, ["--cpu-prof", "--cpu-prof-interval", "100", `--cpu-prof-dir=${dir}`, CLI_BIN, ...args], { env });
    const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
    return file ? formatProfile(summarizeProfile(join(dir, file), 10)) : "(no profile written)";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(context: BenchContext): Promise<SectionResult> {
  const server = await startProductionServer();
  const home = mkdtempSync(join(tmpdir(), "ona-bench-home-"));
  const rows: ResultRow[] = [];
  const details: string[] = [];
  try {
    const account = await signUp(server.url, "bench-cli@example.com");
    const token = await createToken(server.url, account, "read-only");
    const database = await openDatabase(server.databaseUrl);
    try {
      const environmentClass = await defaultEnvironmentClass(database.db);
      await seedEnvironments(database, { userId: account.userId, classId: environmentClass.id, runnerId: environmentClass.runnerId, from: 0, to: ENVIRONMENTS });
    } finally {
      await database.close();
    }
    // A user's shell: no stored credentials, the server and token from the environment.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      ONA_HOST: server.url,
      ONA_TOKEN: token.secret,
      NO_COLOR: "1",
    };
    const serverRequest = () =>
      timedGet(`${server.url}${trpcQueryPath("environment.list", { pageSize: 100 })}`, { authorization: `Bearer ${token.secret}` });

    const listed = await runChecked(process.execPath, [CLI_BIN, "environment", "list", "-o", "json"], { env });
    const parsed: unknown = JSON.parse(listed.stdout);
    if (!Array.isArray(parsed) || parsed.length !== ENVIRONMENTS) {
      throw new Error(`ona environment list -o json printed ${Array.isArray(parsed) ? parsed.length : "no"} environments, expected ${ENVIRONMENTS}`);
    }
    const version = (await runChecked(process.execPath, [CLI_BIN, "--version"], { env })).stdout.trim();

    const samples = { node: [] as number[], version: [] as number[], list: [] as number[], server: [] as number[] };
    const runs = context.quick ? 8 : RUNS;
    // Warm the page cache and the server; then interleave so that drift hits all alike.
    for (let i = 0; i < 3; i++) {
      await runChecked(process.execPath, ["-e", "0"], { env });
      await runChecked(process.execPath, [CLI_BIN, "--version"], { env });
      await runChecked(process.execPath, [CLI_BIN, "environment", "list", "-o", "json"], { env });
      await serverRequest();
    }
    for (let i = 0; i < runs; i++) {
      samples.node.push((await runChecked(process.execPath, ["-e", "0"], { env })).ms);
      samples.version.push((await runChecked(process.execPath, [CLI_BIN, "--version"], { env })).ms);
      samples.list.push((await runChecked(process.execPath, [CLI_BIN, "environment", "list", "-o", "json"], { env })).ms);
      const request = await serverRequest();
      if (request.status !== 200) throw new Error(`environment.list answered ${request.status}`);
      samples.server.push(request.ms);
    }
    const node = median(samples.node);
    const serverMs = median(samples.server);
    const versionMs = median(samples.version);
    const listMs = median(samples.list);
    const spread = (values: number[]) => `p90 ${ms(percentile(values, 90))}`;
    rows.push({ measurement: `node -e 0 (median of ${runs})`, value: ms(node), verdict: "info" });
    rows.push({ measurement: "server's own time for the list request (new connection)", value: ms(serverMs), verdict: "info" });
    rows.push({
      measurement: `ona --version (median of ${runs})`,
      value: `${ms(versionMs)} (${spread(samples.version)})`,
      baseline: `node -e 0: ${ms(node)}`,
      ratio: times(versionMs, node),
      target: "≤ 1.5×",
      verdict: verdictOf(versionMs <= TARGET * node),
    });
    rows.push({
      measurement: `ona environment list -o json, ${ENVIRONMENTS} environments (median of ${runs})`,
      value: `${ms(listMs)} (${spread(samples.list)})`,
      baseline: `node + server: ${ms(node + serverMs)}`,
      ratio: times(listMs, node + serverMs),
      target: "≤ 1.5×",
      verdict: verdictOf(listMs <= TARGET * (node + serverMs)),
    });
    // dist/ona.js and, if the build splits the bundle, the chunks it imports (dist/ona-*.js).
    const files = readdirSync(dirname(CLI_BIN)).filter((name) => /^ona.*\.js$/.test(name));
    const contents = files.map((name) => readFileSync(join(dirname(CLI_BIN), name)));
    const raw = contents.reduce((sum, content) => sum + content.length, 0);
    const gzip = contents.reduce((sum, content) => sum + gzipSync(content, { level: 9 }).length, 0);
    rows.push({
      measurement: `CLI bundle packages/cli/dist/${files.length > 1 ? `ona*.js (${files.length} files; ona.js ${bytes(statSync(CLI_BIN).size)})` : "ona.js"}`,
      value: `${bytes(raw)} (${bytes(gzip)} gzip)`,
      verdict: "info",
    });

    details.push(
      `\`ona --version\` prints ${version}. Each sample is spawn-to-exit wall time measured by the benchmark (Node's own ` +
        "spawn cost is in every sample alike). The server's own time is one GET of the same page on a new connection from a warm process.",
      `CPU profile of \`ona --version\` (100 µs sampling):\n\n${codeBlock(await cpuProfile(["--version"], env))}`,
      `CPU profile of \`ona environment list -o json\`:\n\n${codeBlock(await cpuProfile(["environment", "list", "-o", "json"], env))}`,
    );
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
  return { id: "cli", title: "3. CLI start-up", rows, details };
}

export const cliStartup: Benchmark = { id: "cli", title: "CLI start-up", run };
