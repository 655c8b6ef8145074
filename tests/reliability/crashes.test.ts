import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecOutput } from "@ona/contracts";
import { openDatabase, type Database } from "@ona/db";
import { startTestDatabases, testDatabaseProvider, type TestDatabase, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, signUp, type Credentials } from "../support/client";
import { makeRepository } from "../support/git";
import { freePort, startProductionServer, type ProductionServer } from "../support/production-server";
import { startRunnerProcess, type RunnerProcess } from "../support/runner-process";
import { removeDataDir } from "../support/repositories";
import {
  CRASH_REPOSITORY_FILES,
  DEFAULT_LEASE_MS,
  WANTED_LEASE_ENV,
  checkEveryEnvironmentAtItsDesiredPhase,
  checkNothingOrphaned,
  createThenKill,
  describeStates,
  environmentStates,
  slowCloneFiles,
  summarize,
  waitForCloneInProgress,
  waitForEveryEnvironmentToSettle,
  type KillRecord,
} from "./crash-harness";
import { PHASE, environmentOf, seededRandom, tail, withDiagnostics } from "./helpers";

const DB = testDatabaseProvider();
const KILLS = 20;
const SECRET = "crash-test-secret-0123456789abcdef0123456789abcdef";
/**
 * After the last restart: a claim the last killed process held blocks for the runner's lease
 * (30 s, not configurable yet), then the work itself; generous for a loaded two-core machine.
 */
const SETTLE_TIMEOUT_MS = DEFAULT_LEASE_MS + 150_000;

let databases: TestDatabases;

beforeAll(async () => {
  databases = await startTestDatabases();
});

afterAll(async () => {
  await databases?.stop();
});

/** Everything one or more processes printed, each under a header, for the failure report. */
class Transcript {
  private readonly parts: string[] = [];
  add(header: string, output: string): void {
    this.parts.push(`===== ${header} =====\n${tail(output, 60)}`);
  }
  text(): string {
    return this.parts.join("\n");
  }
}

interface Setup {
  database: TestDatabase;
  reader: Database;
  dataDir: string;
  repository: string;
}

async function setUp(prefix: string): Promise<Setup> {
  const database = await databases.fresh();
  return {
    database,
    reader: await openDatabase(database.url),
    dataDir: mkdtempSync(join(tmpdir(), prefix)),
    repository: makeRepository(CRASH_REPOSITORY_FILES),
  };
}

async function tearDown(setup: Setup): Promise<void> {
  await setup.reader.close();
  await setup.database.drop();
  await removeDataDir(setup.dataDir);
  rmSync(setup.repository, { recursive: true, force: true });
}

async function signUpWithToken(url: string): Promise<Credentials> {
  await signUp(url); // the admin
  const user = await signUp(url);
  return { token: (await createToken(url, user, { accessLevel: "read-write", description: "crash test" })).secret };
}

interface Killable {
  kill(): Promise<void>;
  output(): string;
}

/**
 * KILLS times: sends creates (and some stops and deletes), kills the process in the middle of them
 * and starts it again. `onCurrent` always knows the live process (null while there is none), for
 * the failure report and the clean-up.
 */
async function killDuringCreates<P extends Killable>(options: {
  label: string;
  url: string;
  credentials: Credentials;
  setup: Setup;
  random: ReturnType<typeof seededRandom>;
  known: string[];
  transcript: Transcript;
  first: P;
  restart: () => Promise<P>;
  onCurrent: (process: P | null) => void;
}): Promise<{ kills: KillRecord[]; restartsMs: number[]; last: P }> {
  const kills: KillRecord[] = [];
  const restartsMs: number[] = [];
  let current = options.first;
  for (let iteration = 0; iteration < KILLS; iteration++) {
    const victim = current;
    const kill = await createThenKill({
      iteration,
      url: options.url,
      credentials: options.credentials,
      repository: options.setup.repository,
      random: options.random,
      known: options.known,
      kill: () => victim.kill(),
    });
    kills.push(kill);
    options.transcript.add(`${options.label} #${iteration} (killed ${kill.killAfterMs} ms after ${kill.sent.join(", ")}: ${kill.answers.join("; ")})`, victim.output());
    options.onCurrent(null);
    const restartStarted = Date.now();
    current = await options.restart();
    restartsMs.push(Date.now() - restartStarted);
    options.onCurrent(current);
  }
  return { kills, restartsMs, last: current };
}

/** After the last restart: every environment settles, nothing is left behind, and exec works through `url`. */
async function expectEverythingSettled(options: {
  label: string;
  setup: Setup;
  url: string;
  credentials: Credentials;
  known: string[];
  kills: KillRecord[];
  restartsMs: number[];
  startedAt: number;
}): Promise<void> {
  const settleStarted = Date.now();
  const rows = await waitForEveryEnvironmentToSettle(options.setup.reader, SETTLE_TIMEOUT_MS);
  const settleMs = Date.now() - settleStarted;
  const checked = checkEveryEnvironmentAtItsDesiredPhase(rows, options.known);
  expect(rows.filter((row) => row.desiredPhase === PHASE.RUNNING).length).toBeGreaterThan(0);
  checkNothingOrphaned(options.setup.dataDir, rows);
  await execWorks(options.url, options.credentials, rows);
  const label = `${options.label} kills (${DB})`;
  console.info(summarize(label, options.kills, rows, Math.round((Date.now() - options.startedAt) / 1000)));
  console.info(
    `${label}: ${rows.length} environments checked by id, every one at its desired phase: ${checked.answered} whose create was answered, ` +
      `${checked.others} created by requests the kill cut off or aimed by the test; failures allowed: none, found: none`,
  );
  console.info(`${label}: restarts took ${options.restartsMs.map((ms) => (ms / 1000).toFixed(1)).join(", ")} s; settling after the last took ${(settleMs / 1000).toFixed(1)} s`);
}

// The two run side by side: each spends most of its time waiting for processes to start.
describe.concurrent(`crashes (${DB})`, () => {
  it(`resumes every environment after the server is killed ${KILLS} times during creates`, async () => {
    const started = Date.now();
    const random = seededRandom("server kills");
    const setup = await setUp("ona-crash-server-");
    const transcript = new Transcript();
    const port = await freePort();
    const env = { ONA_SECRET: SECRET, ONA_AUTH_FAILURE_LIMIT: "100000", ...WANTED_LEASE_ENV };
    const start = () => startProductionServer({ database: setup.database, dataDir: setup.dataDir, port, env });
    let server: ProductionServer | null = null;
    try {
      await withDiagnostics(
        async () => {
          const first = await start();
          server = first;
          const credentials = await signUpWithToken(first.url);
          const known: string[] = [];
          const { kills, restartsMs, last } = await killDuringCreates({
            label: "server",
            url: first.url,
            credentials,
            setup,
            random,
            known,
            transcript,
            first,
            restart: start,
            onCurrent: (current) => (server = current),
          });
          // Through the restarted server's embedded runner, a running environment works.
          await expectEverythingSettled({ label: "server", setup, url: last.url, credentials, known, kills, restartsMs, startedAt: started });
        },
        async () =>
          `environments:\n${describeStates(await environmentStates(setup.reader))}\n\n${transcript.text()}\n` +
          `===== the server now =====\n${tail((server as ProductionServer | null)?.output() ?? "(none)", 100)}`,
      );
    } finally {
      await (server as ProductionServer | null)?.stop();
      await tearDown(setup);
    }
  }, 1_200_000);

  it(`resumes every environment after the runner process is killed ${KILLS} times during creates`, async () => {
    const started = Date.now();
    const random = seededRandom("runner kills");
    const setup = await setUp("ona-crash-runner-");
    const transcript = new Transcript();
    const runnerPort = await freePort();
    const startRunner = () =>
      startRunnerProcess({ databaseUrl: setup.database.url, dataDir: setup.dataDir, secret: SECRET, port: runnerPort, env: WANTED_LEASE_ENV });
    let server: ProductionServer | null = null;
    let runner: RunnerProcess | null = null;
    const extraRepositories: string[] = [];
    try {
      await withDiagnostics(
        async () => {
          // The runner first: it registers the environment classes that creates need.
          let currentRunner = await startRunner();
          runner = currentRunner;
          const web = await startProductionServer({
            database: setup.database,
            dataDir: setup.dataDir,
            env: {
              ONA_SECRET: SECRET,
              ONA_EMBEDDED_RUNNER: "false",
              ONA_RUNNER_URL: `http://127.0.0.1:${runnerPort}`,
              ONA_AUTH_FAILURE_LIMIT: "100000",
            },
          });
          server = web;
          const credentials = await signUpWithToken(web.url);

          // Aimed, before the random ones: a kill while a clone is in progress, then a stop
          // before any runner took the environment up again. It must settle as stopped, with no
          // failure. (Not in `known`: a random delete later would hide what this checks.)
          const slowRepository = makeRepository(slowCloneFiles());
          extraRepositories.push(slowRepository);
          const aimed = await mutate(web.url, "environment.create", { contextUrl: `file://${slowRepository}`, name: "killed-mid-clone" }, credentials);
          expect(aimed.status, aimed.text).toBe(200);
          const aimedId = environmentOf(aimed.data).id;
          const clone = await waitForCloneInProgress(setup.dataDir, aimedId);
          await currentRunner.kill();
          transcript.add(`runner killed while ${aimedId} was cloning into ${clone}`, currentRunner.output());
          const stopped = await mutate(web.url, "environment.stop", { id: aimedId }, credentials);
          expect(stopped.status, stopped.text).toBe(200);
          runner = null;
          currentRunner = await startRunner();
          runner = currentRunner;

          const known: string[] = [];
          const { kills, restartsMs } = await killDuringCreates({
            label: "runner",
            url: web.url,
            credentials,
            setup,
            random,
            known,
            transcript,
            first: currentRunner,
            restart: startRunner,
            onCurrent: (current) => (runner = current),
          });
          // The web server reaches the restarted runner for exec.
          await expectEverythingSettled({ label: "runner", setup, url: web.url, credentials, known, kills, restartsMs, startedAt: started });
        },
        async () =>
          `environments:\n${describeStates(await environmentStates(setup.reader))}\n\n${transcript.text()}\n` +
          `===== the runner now =====\n${tail((runner as RunnerProcess | null)?.output() ?? "(none)", 100)}\n` +
          `===== the web server =====\n${tail((server as ProductionServer | null)?.output() ?? "(none)", 100)}`,
      );
    } finally {
      await (runner as RunnerProcess | null)?.stop();
      await (server as ProductionServer | null)?.stop();
      await tearDown(setup);
      for (const repository of extraRepositories) rmSync(repository, { recursive: true, force: true });
    }
  }, 1_200_000);
});

/** `environment exec` in one running environment sees the file its setup wrote. */
async function execWorks(url: string, credentials: Credentials, rows: { id: string; phase: string }[]): Promise<void> {
  const running = rows.find((row) => row.phase === PHASE.RUNNING);
  if (running === undefined) throw new Error("no environment is running at the end");
  const result = await mutate(url, "environment.exec", { id: running.id, command: ["cat", ".setup-ran"] }, credentials);
  expect(result.status, result.text).toBe(200);
  expect(result.data as ExecOutput).toMatchObject({ exitCode: 0, stdout: "ready\n" });
}
