import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./production-server";

export interface LockHolder {
  /** How many times it has taken and released the lock so far. */
  holds(): number;
  output(): string;
  /** Ends the loop (after the current hold) and waits for the process to exit; returns the holds. */
  stop(): Promise<number>;
}

// Runs in its own process: a lock held by the test's own process would freeze it, since
// better-sqlite3 waits for a lock synchronously on the thread that asked.
const SCRIPT = String.raw`
const { createRequire } = require("node:module");
const load = createRequire(process.env.LOCK_HOLDER_FROM);
const url = process.env.LOCK_HOLDER_URL;
const holdMs = Number(process.env.LOCK_HOLDER_HOLD_MS);
const pauseMs = Number(process.env.LOCK_HOLDER_PAUSE_MS);
let stopping = false;
process.on("SIGTERM", () => { stopping = true; });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function sqlite() {
  const Database = load("better-sqlite3");
  const db = new Database(url.replace(/^file:(\/\/)?/, "").replace(/\?.*$/, ""), { timeout: 30000 });
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!stopping) {
    db.prepare("BEGIN IMMEDIATE").run();
    Atomics.wait(cell, 0, 0, holdMs);
    db.prepare("COMMIT").run();
    process.stdout.write("held\n");
    await sleep(pauseMs);
  }
  db.close();
}
async function postgres() {
  const pg = load("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // One table per transaction, rotating: a lock on a single table cannot take part in a deadlock.
  const tables = ["audit_entry", "personal_access_token", "environment", "session", "environment_log"];
  for (let i = 0; !stopping; i++) {
    await client.query("BEGIN");
    await client.query('LOCK TABLE "' + tables[i % tables.length] + '" IN EXCLUSIVE MODE');
    await client.query("SELECT pg_sleep($1)", [holdMs / 1000]);
    await client.query("COMMIT");
    process.stdout.write("held\n");
    await sleep(pauseMs);
  }
  await client.end();
}
(url.startsWith("file:") ? sqlite() : postgres()).then(
  () => process.exit(0),
  (error) => { console.error(String(error && error.stack || error)); process.exit(1); },
);
`;

/**
 * Another writer on the database, in its own process, that takes the write lock (SQLite:
 * BEGIN IMMEDIATE; PostgreSQL: an EXCLUSIVE table lock, one table at a time) for `holdMs`,
 * lets go for `pauseMs`, and again, until stopped. It stands for a second process writing a big
 * batch: whoever writes meanwhile has to wait for the lock, never fail.
 */
export function startLockHolder(databaseUrl: string, options: { holdMs: number; pauseMs: number }): LockHolder {
  let output = "";
  const child = spawn(process.execPath, ["-e", SCRIPT], {
    env: {
      ...process.env,
      LOCK_HOLDER_FROM: join(REPO_ROOT, "packages/db/package.json"),
      LOCK_HOLDER_URL: databaseUrl,
      LOCK_HOLDER_HOLD_MS: String(options.holdMs),
      LOCK_HOLDER_PAUSE_MS: String(options.pauseMs),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const holds = (): number => output.split("\n").filter((line) => line === "held").length;
  return {
    holds,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`the lock holder failed (exit ${code}):\n${output}`);
      return holds();
    },
  };
}
