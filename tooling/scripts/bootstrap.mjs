#!/usr/bin/env node
// The README's two commands run through here, on a machine with only Node 20 and npm:
//   npm run up   → install pnpm and the dependencies, build, start Ona on http://localhost:3000
//   npm test     → install everything the tests need (Debian's chromium, bubblewrap, slirp4netns), run every test
// Plain Node, no dependencies: it runs before anything is installed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const PNPM_VERSION = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
const command = process.argv[2];

const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  TURBO_TELEMETRY_DISABLED: "1",
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
};
// better-sqlite3 builds from source where its prebuilt binary cannot be downloaded; node-gyp
// then needs Node's headers, which Debian's nodejs-dev puts under /usr (pnpm ignores .npmrc's nodedir).
if (!env.npm_config_nodedir && existsSync("/usr/include/node/node.h")) env.npm_config_nodedir = "/usr";

function step(message) {
  console.error(`\n▶ ${message}`);
}

function run(file, args, options = {}) {
  const result = spawnSync(file, args, { cwd: root, env, stdio: "inherit", ...options });
  if (result.status !== 0) {
    console.error(`\n✗ ${file} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

function pnpmVersion(file) {
  try {
    return execFileSync(file, ["--version"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** pnpm at the version package.json pins: global if it is there, else installed into .tools/. */
function ensurePnpm() {
  if (pnpmVersion("pnpm") === PNPM_VERSION) return "pnpm";
  const local = join(root, ".tools/node_modules/.bin/pnpm");
  if (pnpmVersion(local) === PNPM_VERSION) return local;
  step(`installing pnpm ${PNPM_VERSION}`);
  const global = spawnSync("npm", ["install", "-g", `pnpm@${PNPM_VERSION}`], { env, stdio: "inherit" });
  if (global.status === 0 && pnpmVersion("pnpm") === PNPM_VERSION) return "pnpm";
  mkdirSync(join(root, ".tools"), { recursive: true });
  run("npm", ["install", "--prefix", join(root, ".tools"), "--no-save", `pnpm@${PNPM_VERSION}`]);
  return local;
}

let aptUpdated = false;

/** Installs Debian packages as root; otherwise returns the command the user has to run. */
function aptInstall(packages, why) {
  if (process.getuid?.() !== 0) return `sudo apt-get install -y ${packages.join(" ")}`;
  step(`installing ${packages.join(", ")} from Debian's packages (${why})`);
  if (!aptUpdated) run("apt-get", ["update", "-qq"]);
  aptUpdated = true;
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
    env: { ...env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return null;
}

/** Browser tests drive Debian's chromium; playwright's own browser download cannot work offline. */
function ensureChromium() {
  const path = env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (existsSync(path)) return;
  const todo = aptInstall(["chromium"], "the browser tests");
  if (todo !== null) {
    console.error(`\n✗ the browser tests need Debian's chromium at ${path}: run  ${todo}  (or set CHROMIUM_PATH)`);
    process.exit(1);
  }
}

/**
 * Environments run in sandboxes made with bubblewrap, with a network of their own through
 * slirp4netns. Without them the server still starts, but refuses to run environments and says why.
 */
function ensureSandboxTools({ required }) {
  const missing = [
    ["bwrap", "bubblewrap"],
    ["slirp4netns", "slirp4netns"],
  ].filter(([tool]) => !onPath(tool)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const todo = aptInstall(missing, "the sandbox environments run in");
  if (todo === null) return;
  const message = `environments run in sandboxes that need ${missing.join(" and ")}: run  ${todo}`;
  if (required) {
    console.error(`\n✗ ${message}`);
    process.exit(1);
  }
  console.error(`\n! ${message}\n  (Ona starts, but refuses to run environments until then; ONA_RUNTIME=host runs them without a sandbox, on a machine only you use)`);
}

function onPath(tool) {
  return (env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, tool)));
}

/** Adds up the JSON reports the test runs leave behind into one closing line. */
function summarize(reportDir) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (existsSync(reportDir)) {
    for (const file of readdirSync(reportDir)) {
      const report = JSON.parse(readFileSync(join(reportDir, file), "utf8"));
      passed += report.numPassedTests ?? 0;
      failed += report.numFailedTests ?? 0;
      skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    }
  }
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed;
}

const pnpm = ensurePnpm();
step("installing dependencies");
run(pnpm, ["install", "--frozen-lockfile"]);

if (command === "up") {
  if (env.ONA_RUNTIME !== "host") ensureSandboxTools({ required: false });
  step("building");
  run(pnpm, ["exec", "turbo", "run", "build", "--filter=@ona/web", "--filter=@ona/cli"]);
  step("starting Ona on http://localhost:3000 (Ctrl-C stops it)");
  const server = spawn(pnpm, ["start"], { cwd: root, env, stdio: "inherit" });
  const forward = (signal) => server.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  server.on("exit", (code) => process.exit(code ?? 0));
} else if (command === "test") {
  ensureChromium();
  ensureSandboxTools({ required: true });
  const reportDir = join(root, ".test-reports");
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  step("building, type-checking, linting and testing every package (SQLite, then PostgreSQL)");
  const result = spawnSync(pnpm, ["run", "test:all"], { cwd: root, env: { ...env, ONA_TEST_REPORT_DIR: reportDir }, stdio: "inherit" });
  const failed = summarize(reportDir);
  process.exit(result.status === 0 && failed === 0 ? 0 : 1);
} else {
  console.error("usage: node tooling/scripts/bootstrap.mjs up|test");
  process.exit(2);
}
