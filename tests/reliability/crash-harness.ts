import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Database } from "@ona/db";
import { mutate, type CallResult, type Credentials } from "../support/client";
import { PHASE, environmentOf, sleep, waitUntil, type Random } from "./helpers";

/** The folder the runner keeps its notes in, next to the checkouts (packages/runner/src/workspace.ts). */
const RUNNER_STATE_DIR = ".ona-runner";
/** The variable every process the runner starts for an environment carries (packages/runner/src/processes.ts). */
const ENVIRONMENT_ID_VARIABLE = "ONA_ENVIRONMENT_ID";
/**
 * What a running environment's sandbox keeps alive by design (packages/runner/src/isolation/sandbox.ts):
 * bubblewrap, its idle first process, and the network helper.
 */
const SANDBOX_KEEPER = /^(bwrap |sleep infinity$|slirp4netns )/;
/** The runner's notes on a clone and a setup (packages/runner/src/workspace.ts). */
const CLONE_STARTED = "clone-started";
const CLONE_DONE = "clone-done";
const SETUP_DONE = "setup-done";
/** The runner's host-uid allocations next to its notes (packages/runner/src/isolation/uids.ts): one file per uid, naming its environment. */
const UID_ALLOCATIONS = "uids";
const IN_PROGRESS = new Set<string>([PHASE.CREATING, PHASE.STARTING, PHASE.STOPPING, PHASE.DELETING]);

/**
 * The repository every crash test clones: its setup takes half a second (widening the window
 * in which a kill lands mid-setup) and leaves a file behind only when it ran to the end.
 */
export const CRASH_REPOSITORY_FILES = {
  "README.md": "# crash test\n",
  ".ona/setup.sh": "#!/bin/sh\necho setting up\nsleep 0.5\necho ready > .setup-ran\n",
};

/** The lease we would like the runner to use (see the report: ONA_RUNNER_LEASE_MS is not read yet, so this is ignored today). */
export const WANTED_LEASE_ENV = { ONA_RUNNER_LEASE_MS: "3000" };
/** The runner's default lease (packages/runner/src/local-runner.ts DEFAULT_LEASE_MS): a killed process's claims block this long. */
export const DEFAULT_LEASE_MS = 30_000;

export interface KillRecord {
  iteration: number;
  /** Milliseconds between sending the requests and the SIGKILL. */
  killAfterMs: number;
  sent: string[];
  /** What came back before the kill (or the network error). */
  answers: string[];
}

/**
 * One round: sends two creates (and now and then a delete or a stop of an environment made
 * earlier, so that deleting and stopping are interrupted too), waits a random 0–1500 ms from
 * the moment they were sent, and kills the target. Requests cut off by the kill fail on the
 * network; whatever they did or did not do must still end consistently.
 */
export async function createThenKill(options: {
  iteration: number;
  url: string;
  credentials: Credentials;
  repository: string;
  random: Random;
  known: string[];
  kill: () => Promise<void>;
}): Promise<KillRecord> {
  const { url, credentials, random, known } = options;
  // Each call's outcome is taken as it comes (a request cut off by the kill rejects at once).
  const calls: { label: string; outcome: Promise<CallResult | Error> }[] = [];
  const send = (label: string, call: Promise<CallResult>): void => {
    calls.push({ label, outcome: call.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))) });
  };
  for (let i = 0; i < 2; i++) {
    send("create", mutate(url, "environment.create", { contextUrl: options.repository, name: `crash-${options.iteration}-${i}` }, credentials));
  }
  if (known.length > 0 && random.next() < 0.3) {
    const id = random.pick(known);
    send(`delete ${id}`, mutate(url, "environment.delete", { id }, credentials));
  }
  if (known.length > 0 && random.next() < 0.2) {
    const id = random.pick(known);
    send(`stop ${id}`, mutate(url, "environment.stop", { id }, credentials));
  }
  const killAfterMs = random.int(0, 1500);
  await sleep(killAfterMs);
  await options.kill();
  const answers: string[] = [];
  for (const { label, outcome } of calls) {
    const result = await outcome;
    if (result instanceof Error) {
      answers.push(`${label}: cut off (${result.message}${result.cause instanceof Error ? `: ${result.cause.message}` : ""})`);
      continue;
    }
    // An answer that came back must be a proper one: the kill may cut a request off, not make it fail.
    // (A stop of an environment a random earlier delete removed is refused with 412, as it should be.)
    if (result.status !== 200 && !(result.status === 412 && label.startsWith("stop"))) {
      throw new Error(`${label} answered ${result.status}: ${result.text}`);
    }
    if (label === "create" && result.status === 200) known.push(environmentOf(result.data).id);
    answers.push(`${label}: ${result.status}`);
  }
  return { iteration: options.iteration, killAfterMs, sent: calls.map((c) => c.label), answers };
}

export interface EnvironmentState {
  id: string;
  phase: string;
  desiredPhase: string;
  failureMessage: string;
  statusVersion: number;
  specVersion: number;
  failedSpecVersion: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
}

export async function environmentStates(database: Database): Promise<EnvironmentState[]> {
  return database.db.environment.findMany({
    select: {
      id: true,
      phase: true,
      desiredPhase: true,
      failureMessage: true,
      statusVersion: true,
      specVersion: true,
      failedSpecVersion: true,
      leaseOwner: true,
      leaseExpiresAt: true,
    },
    orderBy: { createdAt: "asc" },
  });
}

const settledState = (row: EnvironmentState): boolean =>
  !IN_PROGRESS.has(row.phase) && (row.phase === row.desiredPhase || row.failureMessage !== "[]");

export function describeStates(rows: EnvironmentState[]): string {
  return rows
    .map(
      (row) =>
        `${row.id} ${row.phase.replace("ENVIRONMENT_PHASE_", "")} → ${row.desiredPhase.replace("ENVIRONMENT_PHASE_", "")} ` +
        `status v${row.statusVersion} spec v${row.specVersion} failed@${row.failedSpecVersion ?? "-"} ` +
        `lease ${row.leaseOwner ?? "-"} until ${row.leaseExpiresAt?.toISOString() ?? "-"} failure ${row.failureMessage}`,
    )
    .join("\n");
}

/**
 * Waits until every environment is at its desired phase or shows a failure message, and none
 * is in a phase of work (CREATING, STARTING, STOPPING, DELETING), for a little while in a row.
 */
export async function waitForEveryEnvironmentToSettle(database: Database, timeoutMs: number): Promise<EnvironmentState[]> {
  let settledSince: number | null = null;
  return waitUntil(
    "every environment to reach its desired phase or show a failure",
    async () => {
      const rows = await environmentStates(database);
      if (!rows.every(settledState)) {
        settledSince = null;
        return undefined;
      }
      settledSince ??= Date.now();
      // Settled twice, a second apart: a runner that is still about to act would show by then.
      return Date.now() - settledSince >= 1_000 ? rows : undefined;
    },
    {
      timeoutMs,
      intervalMs: 250,
      describe: async () => `not settled:\n${describeStates((await environmentStates(database)).filter((row) => !settledState(row)))}`,
    },
  );
}

/**
 * Every environment, by id, at the phase it was asked for and with no failure message. A kill
 * interrupts a step; the runner that takes the environment up again resumes it ("it resumes from
 * where it can"), so no kill makes a failure unavoidable and none is allowed. Every environment
 * whose create was answered must exist; the others were created by requests the kill cut off (or
 * aimed by the test) and must have settled just the same. Returns the counts, for the report.
 */
export function checkEveryEnvironmentAtItsDesiredPhase(rows: EnvironmentState[], answered: string[]): { answered: number; others: number } {
  const ids = new Set(rows.map((row) => row.id));
  expect(answered.filter((id) => !ids.has(id)), "environments whose create was answered, missing from the database").toEqual([]);
  const unsettled = rows.filter((row) => row.phase !== row.desiredPhase || row.failureMessage !== "[]");
  expect(describeStates(unsettled), "environments not at their desired phase, or with a failure").toBe("");
  const answeredIds = new Set(answered);
  return { answered: answeredIds.size, others: rows.filter((row) => !answeredIds.has(row.id)).length };
}

/** Live processes that carry one of these environments' marker. */
function processesOf(ids: Set<string>): { pid: string; environmentId: string; command: string }[] {
  const found: { pid: string; environmentId: string; command: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const marker = readFileSync(`/proc/${name}/environ`)
        .toString("utf8")
        .split("\0")
        .find((entry) => entry.startsWith(`${ENVIRONMENT_ID_VARIABLE}=`));
      const id = marker?.slice(ENVIRONMENT_ID_VARIABLE.length + 1);
      if (id === undefined || !ids.has(id)) continue;
      const state = readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.[0];
      if (state === "Z") continue;
      const command = readFileSync(`/proc/${name}/cmdline`).toString("utf8").replaceAll("\0", " ").trim();
      found.push({ pid: name, environmentId: id, command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * What a settled system must look like on disk and in the process table:
 * - every folder under <dataDir>/environments is the checkout of a live (not deleted) environment;
 * - every folder of runner notes belongs to a live environment;
 * - every host uid the runner holds belongs to a live environment;
 * - a running environment has its whole checkout and a setup that ran to the end;
 * - a deleted environment has nothing left;
 * - no process of a stopped or deleted environment is alive, and a running one has only its
 *   sandbox's own (the setup ends by itself).
 */
export function checkNothingOrphaned(dataDir: string, rows: EnvironmentState[]): void {
  const environmentsDir = join(dataDir, "environments");
  const live = new Set(rows.filter((row) => row.phase !== PHASE.DELETED).map((row) => row.id));
  const entries = existsSync(environmentsDir) ? readdirSync(environmentsDir) : [];
  const orphans = entries.filter((name) => name !== RUNNER_STATE_DIR && !live.has(name));
  expect(orphans, `folders in ${environmentsDir} that belong to no live environment`).toEqual([]);

  const stateDir = join(environmentsDir, RUNNER_STATE_DIR);
  const noted = existsSync(stateDir) ? readdirSync(stateDir).filter((name) => name !== UID_ALLOCATIONS) : [];
  expect(noted.filter((name) => !live.has(name)), `runner notes in ${stateDir} for no live environment`).toEqual([]);
  const uidsDir = join(stateDir, UID_ALLOCATIONS);
  const heldUids = existsSync(uidsDir) ? readdirSync(uidsDir).map((uid) => ({ uid, environment: readFileSync(join(uidsDir, uid), "utf8").trim() })) : [];
  expect(
    heldUids.filter((held) => !live.has(held.environment)).map((held) => `uid ${held.uid} for ${held.environment}`),
    "host uids still held for no live environment",
  ).toEqual([]);
  // A clone begun and never finished is discarded when its environment stops.
  const halfClones = noted.filter((id) => existsSync(join(stateDir, id, CLONE_STARTED)) && !existsSync(join(stateDir, id, CLONE_DONE)));
  expect(halfClones, "half-finished clones left behind").toEqual([]);

  for (const row of rows) {
    const checkout = join(environmentsDir, row.id);
    if (row.phase === PHASE.RUNNING) {
      expect(readFileSync(join(checkout, "README.md"), "utf8"), `checkout of running ${row.id}`).toBe("# crash test\n");
      expect(readFileSync(join(checkout, ".setup-ran"), "utf8"), `setup of running ${row.id} ran to the end`).toBe("ready\n");
      // The runner's own record agrees: the clone and the setup finished (packages/runner/src/workspace.ts).
      for (const marker of [CLONE_DONE, SETUP_DONE]) expect(existsSync(join(stateDir, row.id, marker)), `${marker} of running ${row.id}`).toBe(true);
    }
    if (row.phase === PHASE.DELETED) {
      expect(existsSync(checkout), `checkout of deleted ${row.id}`).toBe(false);
      expect(existsSync(join(stateDir, row.id)), `runner notes of deleted ${row.id}`).toBe(false);
    }
  }

  const running = new Set(rows.filter((row) => row.phase === PHASE.RUNNING).map((row) => row.id));
  const leftovers = processesOf(new Set(rows.map((row) => row.id))).filter(
    (process) => !(running.has(process.environmentId) && SANDBOX_KEEPER.test(process.command)),
  );
  expect(
    leftovers.map((process) => `pid ${process.pid} of ${process.environmentId}: ${process.command.slice(0, 120)}`),
    "processes left over (of a stopped or deleted environment, or beside a running one's sandbox)",
  ).toEqual([]);
}

/** What the test prints on success, so a run's report shows what the kills hit. */
export function summarize(label: string, kills: KillRecord[], rows: EnvironmentState[], seconds: number): string {
  const byPhase = new Map<string, number>();
  for (const row of rows) byPhase.set(row.phase, (byPhase.get(row.phase) ?? 0) + 1);
  const failures = rows.filter((row) => row.failureMessage !== "[]");
  const cutOff = kills.flatMap((kill) => kill.answers).filter((answer) => answer.includes("cut off")).length;
  return (
    `${label}: ${kills.length} kills after ${kills.map((kill) => kill.killAfterMs).join(", ")} ms; ${cutOff} requests cut off; ` +
    `${rows.length} environments settled as ${[...byPhase].map(([phase, count]) => `${count} ${phase.replace("ENVIRONMENT_PHASE_", "")}`).join(", ")}` +
    `${failures.length > 0 ? `; failures: ${failures.map((row) => `${row.id}: ${row.failureMessage}`).join("; ")}` : ""}; ${seconds} s`
  );
}

/**
 * A repository whose clone takes a couple of seconds over file:// (15 MB that does not
 * compress), so that a kill can be aimed at the moment a clone is in progress.
 */
export function slowCloneFiles(): Record<string, string> {
  return { ...CRASH_REPOSITORY_FILES, "big.txt": randomBytes(15_000_000).toString("base64") };
}

/** Resolves once the runner is cloning the environment (it noted the clone's start, not yet its end). */
export async function waitForCloneInProgress(dataDir: string, environmentId: string): Promise<string> {
  const notes = join(dataDir, "environments", RUNNER_STATE_DIR, environmentId);
  return waitUntil(
    `a clone of ${environmentId} to be in progress`,
    async () => (existsSync(join(notes, CLONE_STARTED)) && !existsSync(join(notes, CLONE_DONE)) ? join(notes, CLONE_STARTED) : undefined),
    { timeoutMs: 90_000, intervalMs: 10 },
  );
}
