// Processes an environment runs: each is started as the leader of its own process group, so
// that everything it starts (short of a daemon calling setsid) can be ended together, and each
// group is recorded in a pid file outside the checkout, so that a runner started after a crash
// or restart can still end them. On Linux, /proc adds a second net: every process the runner
// starts for an environment carries ONA_ENVIRONMENT_ID in its environment, which survives
// setsid and double forks.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { errnoOf } from "./errors";

/** Set in every process the runner starts for an environment; how they are found again on Linux. */
export const ENVIRONMENT_ID_VARIABLE = "ONA_ENVIRONMENT_ID";

/**
 * A complete set of variables for a child process. Typed as ProcessEnv only for spawn: an app
 * may augment ProcessEnv with keys it requires of its own process (Next.js adds NODE_ENV),
 * which a child's deliberately small set does not have.
 */
export function asProcessEnv(variables: Record<string, string>): NodeJS.ProcessEnv {
  return variables as NodeJS.ProcessEnv;
}

export interface ProcessResult {
  /** The exit code, or 128 + the signal number when a signal ended the process (as shells report it). */
  exitCode: number;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the program could not be started at all (not found, not executable). */
  spawnError: NodeJS.ErrnoException | null;
}

export interface StartProcessOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Ends the whole process group after this long. */
  timeoutMs?: number;
  /** Ends the whole process group when aborted. */
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL when ending the group. */
  killGraceMs?: number;
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  /** Records the process group so stop and delete can end it later, even from another runner process. */
  tracker?: ProcessTracker;
}

export interface StartedProcess {
  /** Undefined when the program could not be started. */
  pid: number | undefined;
  result: Promise<ProcessResult>;
  /** Ends the process group (TERM, then KILL after the grace time). */
  terminate(): void;
}

/**
 * After the main process exits, its output may still sit in the pipe, or a background child
 * may hold the pipe open for hours; wait this long for the pipe to drain, then stop reading.
 */
const DRAIN_AFTER_EXIT_MS = 250;
const DEFAULT_KILL_GRACE_MS = 2_000;

export function startProcess(options: StartProcessOptions): StartedProcess {
  const [file, ...args] = options.argv;
  if (file === undefined || file === "") {
    const error: NodeJS.ErrnoException = Object.assign(new Error("no command given"), { code: "ENOENT" });
    return { pid: undefined, result: Promise.resolve(failedToStart(error)), terminate: () => undefined };
  }
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    // detached: the child leads a new process group (setsid), which is what lets us end all of it.
    child = spawn(file, args, { cwd: options.cwd, env: asProcessEnv(options.env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    // Thrown, not emitted, for arguments Node refuses outright (a NUL byte, say).
    const reason: NodeJS.ErrnoException = error instanceof Error ? error : new Error(String(error));
    return { pid: undefined, result: Promise.resolve(failedToStart(reason)), terminate: () => undefined };
  }
  const pid = child.pid;
  if (pid !== undefined) options.tracker?.record(pid);

  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const terminate = (): void => {
    if (pid === undefined || killTimer !== undefined) return;
    signalGroup(pid, "SIGTERM");
    killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), grace);
    killTimer.unref();
  };

  child.stdout.on("data", (chunk: Buffer) => options.onStdout?.(chunk));
  child.stderr.on("data", (chunk: Buffer) => options.onStderr?.(chunk));

  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          terminate();
        }, options.timeoutMs);
  const onAbort = (): void => {
    aborted = true;
    terminate();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  const result = new Promise<ProcessResult>((resolve) => {
    let settled = false;
    const finish = (outcome: ProcessResult): void => {
      if (settled) return;
      settled = true;
      if (timeout !== undefined) clearTimeout(timeout);
      options.signal?.removeEventListener("abort", onAbort);
      // Once the main process is gone, a group that was asked to end is killed outright.
      if (killTimer !== undefined && pid !== undefined) {
        clearTimeout(killTimer);
        signalGroup(pid, "SIGKILL");
      }
      if (pid !== undefined) options.tracker?.forgetIfGone(pid);
      resolve(outcome);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      // 'error' without a pid: the program never started. With a pid, 'exit' still follows.
      if (pid === undefined) finish(failedToStart(error));
    });
    child.once("exit", (code, signal) => {
      const streamsClosed = Promise.all([ended(child.stdout), ended(child.stderr)]);
      const drained = Promise.race([streamsClosed, drainTimeout(DRAIN_AFTER_EXIT_MS)]);
      void drained.then(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish({
          exitCode: code ?? 128 + signalNumber(signal),
          signal,
          timedOut,
          aborted,
          spawnError: null,
        });
      });
    });
  });
  return { pid, result, terminate };
}

function failedToStart(error: NodeJS.ErrnoException): ProcessResult {
  // The shell's codes: 127 not found, 126 found but not executable.
  const exitCode = error.code === "EACCES" || error.code === "ENOEXEC" || error.code === "EISDIR" ? 126 : 127;
  return { exitCode, signal: null, timedOut: false, aborted: false, spawnError: error };
}

function ended(stream: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }): Promise<void> {
  if (stream.readableEnded === true || stream.destroyed === true) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Does not keep the process alive: a background child holding a pipe must not hold up an exit. */
function drainTimeout(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function signalNumber(signal: NodeJS.Signals | null): number {
  if (signal === null) return 0;
  return osConstants.signals[signal];
}

/** Sends a signal to a whole process group; a group that is already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (!isSafeTarget(pgid)) return;
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (errnoOf(error) !== "ESRCH") throw error;
  }
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  if (!isSafeTarget(pid)) return;
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (errnoOf(error) !== "ESRCH" && errnoOf(error) !== "EPERM") throw error;
  }
}

/** Never signal init, ourselves or our own group, whatever a pid file says. */
function isSafeTarget(pid: number): boolean {
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid && pid !== ownProcessGroup();
}

let cachedOwnGroup: number | undefined;
function ownProcessGroup(): number {
  if (cachedOwnGroup === undefined) {
    cachedOwnGroup = readProcStat(process.pid)?.pgrp ?? -1;
  }
  return cachedOwnGroup;
}

/** The pid files of one environment's process groups. */
export class ProcessTracker {
  constructor(
    private readonly dir: string,
    private readonly environmentId: string,
  ) {}

  record(pgid: number): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, String(pgid)), JSON.stringify({ pgid, environmentId: this.environmentId }) + "\n");
  }

  /** Drops the pid file once nothing of the group is left, so the folder does not grow. */
  forgetIfGone(pgid: number): void {
    if (!groupAlive(pgid)) this.forget(pgid);
  }

  forget(pgid: number): void {
    rmSync(join(this.dir, String(pgid)), { force: true });
  }

  recorded(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return [];
      throw error;
    }
    return names.filter((name) => /^\d+$/.test(name)).map(Number);
  }
}

interface ProcStat {
  state: string;
  pgrp: number;
}

const HAS_PROC = (() => {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

function readProcStat(pid: number): ProcStat | null {
  if (!HAS_PROC) return null;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    const pgrp = Number(fields[2]);
    return state === undefined ? null : { state, pgrp };
  } catch {
    return null;
  }
}

/**
 * Whether any live (non-zombie) process is left in the group. A zombie is dead, only not yet
 * reaped by its parent, which may be an init that never reaps.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return errnoOf(error) === "EPERM";
  }
  // Something is in the group; on Linux, make sure it is not only zombies.
  return !HAS_PROC || listProcesses().some((proc) => proc.pgrp === pgid && proc.state !== "Z");
}

interface ProcEntry extends ProcStat {
  pid: number;
}

function listProcesses(): ProcEntry[] {
  if (!HAS_PROC) return [];
  const entries: ProcEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readProcStat(pid);
    if (stat !== null) entries.push({ pid, ...stat });
  }
  return entries;
}

function hasMarker(pid: number, environmentId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).toString("utf8").split("\0").includes(`${ENVIRONMENT_ID_VARIABLE}=${environmentId}`);
  } catch {
    return false; // gone meanwhile, or another user's
  }
}

/**
 * The live processes of an environment: members of its recorded groups, plus (Linux) every
 * process carrying its marker. One pass over /proc, read synchronously: /proc files are made
 * in memory, and hundreds of tiny reads queued on libuv's small thread pool took far longer.
 */
function environmentProcesses(environmentId: string, groups: number[]): number[] {
  if (!HAS_PROC) return groups.filter(groupAlive);
  return listProcesses()
    .filter((proc) => proc.state !== "Z" && isSafeTarget(proc.pid))
    .filter((proc) => groups.includes(proc.pgrp) || hasMarker(proc.pid, environmentId))
    .map((proc) => proc.pid);
}

/**
 * Whether a recorded group may be signalled: on Linux, a live group leader must carry the
 * environment's marker (after a reboot the number may belong to someone else). A leader that
 * is gone cannot have had its number reused while the group lives, so its members are ours.
 */
function recordedGroupIsOurs(pgid: number, environmentId: string): boolean {
  if (!HAS_PROC) return true;
  if (readProcStat(pgid) === null) return true;
  return hasMarker(pgid, environmentId);
}

/**
 * Ends every process of an environment: the recorded groups and (on Linux) every process
 * marked with its id. SIGTERM first, SIGKILL for whatever is left after `graceMs`. Resolves
 * when none is left alive; reports the ones that would not die.
 */
export async function endEnvironmentProcesses(
  tracker: ProcessTracker,
  environmentId: string,
  graceMs: number,
): Promise<{ ended: number; survivors: number[] }> {
  const groups: number[] = [];
  for (const pgid of tracker.recorded()) {
    if (recordedGroupIsOurs(pgid, environmentId)) groups.push(pgid);
    else tracker.forget(pgid);
  }
  const initial = environmentProcesses(environmentId, groups);
  if (initial.length === 0) {
    for (const pgid of groups) tracker.forget(pgid);
    return { ended: 0, survivors: [] };
  }
  // Whole groups first (that also reaches children that have not exec'd yet), then strays.
  for (const pgid of groups) signalGroup(pgid, "SIGTERM");
  for (const pid of initial) signalProcess(pid, "SIGTERM");

  const deadline = Date.now() + graceMs;
  let left = environmentProcesses(environmentId, groups);
  while (left.length > 0 && Date.now() < deadline) {
    await delay(50);
    left = environmentProcesses(environmentId, groups);
  }
  if (left.length > 0) {
    for (const pgid of groups) signalGroup(pgid, "SIGKILL");
    for (const pid of left) signalProcess(pid, "SIGKILL");
    const killDeadline = Date.now() + 2_000;
    while (left.length > 0 && Date.now() < killDeadline) {
      await delay(50);
      left = environmentProcesses(environmentId, groups);
    }
  }
  for (const pgid of groups) tracker.forget(pgid);
  return { ended: initial.length - left.length, survivors: left };
}
