import { existsSync, mkdirSync } from "node:fs";
import { chmod, lstat, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { ExecOutput } from "@ona/contracts";
import { EXEC_OUTPUT_CAP_BYTES } from "./client";
import type { EnvironmentLogWriter } from "./environment-log";
import { RunnerError, StepFailure, errnoOf } from "./errors";
import { cloneRepository } from "./git";
import type { Isolation } from "./isolation";
import { RepositorySourceRefused, resolveRepositorySource, type RepositorySource, type RepositorySourcePolicy } from "./repository-source";
import { findSetup, runSetup } from "./setup";
import { environmentPaths, type EnvironmentPaths, type EnvironmentSpec } from "./workspace";

export interface LocalRuntimeOptions {
  environmentsDir: string;
  /** Where and with which rights the environment's processes run (a sandbox, or single-user mode). */
  isolation: Isolation;
  /** Which context URLs may be cloned (local folders only under the operator's list). */
  sources: RepositorySourcePolicy;
  cloneTimeoutMs: number;
  setupTimeoutMs: number;
  /** How long processes get between SIGTERM and SIGKILL when an environment stops. */
  stopGraceMs: number;
}

/** setTimeout fires at once for longer delays than this (a signed 32-bit number of ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The exit code timeout(1) reports, which scripts already know to look for. */
export const EXEC_TIMEOUT_EXIT_CODE = 124;

/**
 * What the reconciler needs from a machine to run environments on. The local runtime uses a
 * folder, a sandbox and processes; a Kubernetes one would use a volume and a pod (see README.md).
 * Every method must be safe to call again after an interruption at any point.
 */
export interface EnvironmentRuntime {
  /** Makes sure the repository is checked out (cloning it if not). */
  ensureCheckout(environment: EnvironmentSpec, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void>;
  /** Makes sure the environment runs and the repository's setup has run to success once for this checkout. */
  ensureSetup(environment: EnvironmentSpec, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void>;
  /**
   * Ends everything the environment runs; the checkout stays. Reports the processes that
   * would not end.
   */
  stop(environmentId: string): Promise<{ ended: number; survivors: number[] }>;
  /** Removes everything the environment had. */
  remove(environmentId: string): Promise<void>;
}

/**
 * The machine side of the local runner: folders, git, setup and processes, run through the
 * isolation. It knows nothing of phases or leases; the reconciler decides when to call what,
 * and is the only caller of the state-changing methods for a given environment at any time.
 */
export class LocalRuntime implements EnvironmentRuntime {
  constructor(private readonly options: LocalRuntimeOptions) {}

  paths(environmentId: string) {
    return environmentPaths(this.options.environmentsDir, environmentId);
  }

  /**
   * Clones the repository into the checkout unless a complete clone is there. Completion is a
   * note written after git succeeds, so a clone cut short by a crash or a stop is emptied and
   * done again; a checkout with the note is always a whole one. git runs inside the
   * environment, with its rights: it reaches only what the environment may.
   */
  async ensureCheckout(environment: EnvironmentSpec, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void> {
    const paths = this.paths(environment.id);
    if (existsSync(paths.cloneDone)) return;
    if (isCompleteLegacyCheckout(paths)) {
      await writeFile(paths.cloneDone, "made before clone notes existed\n");
      return;
    }
    let source: RepositorySource;
    try {
      source = resolveRepositorySource(environment.contextUrl, this.options.sources, { resolveLinks: true });
    } catch (error) {
      if (error instanceof RepositorySourceRefused) throw new StepFailure(error.message);
      throw error;
    }
    // An earlier attempt: a git left running by a runner that died mid-clone would still be writing.
    const { survivors } = await this.stop(environment.id);
    if (survivors.length > 0) throw new StepFailure(`an earlier clone of this environment would not end (pid ${survivors.join(", ")})`);
    mkdirSync(paths.state, { recursive: true, mode: 0o700 });
    // A new checkout needs its setup run, whatever an earlier one had done.
    await rm(paths.setupDone, { force: true });
    await writeFile(paths.cloneStarted, new Date().toISOString() + "\n");
    await emptyFolder(paths.checkout);
    await this.options.isolation.prepare(environment);
    await cloneRepository({
      source,
      isolation: this.options.isolation,
      environment,
      destination: this.options.isolation.workspacePath(environment.id),
      log,
      timeoutMs: this.options.cloneTimeoutMs,
      signal,
    });
    await writeFile(paths.cloneDone, new Date().toISOString() + "\n");
  }

  /**
   * Starts the environment's sandbox (if it is not running) and runs the repository's setup
   * once per checkout: after it succeeds a marker is written, so a later start does not run it
   * again, while a setup cut short (crash, stop, failure) runs again from the beginning, after
   * whatever it had left running is ended.
   */
  async ensureSetup(environment: EnvironmentSpec, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void> {
    const paths = this.paths(environment.id);
    if (existsSync(paths.setupDone)) {
      await this.options.isolation.prepare(environment);
      return;
    }
    const commands = findSetup(paths.checkout);
    if (commands.length === 0) {
      log.system("no setup declared (.ona/setup.sh or postCreateCommand in .devcontainer/devcontainer.json)");
      await this.options.isolation.prepare(environment);
    } else {
      // Whatever an interrupted earlier run of the setup left running goes first.
      const { survivors } = await this.stop(environment.id);
      if (survivors.length > 0) throw new StepFailure(`an earlier setup of this environment would not end (pid ${survivors.join(", ")})`);
      await this.options.isolation.prepare(environment);
      await runSetup({
        isolation: this.options.isolation,
        environment,
        commands,
        log,
        timeoutMs: this.options.setupTimeoutMs,
        killGraceMs: this.options.stopGraceMs,
        signal,
      });
    }
    mkdirSync(paths.state, { recursive: true, mode: 0o700 });
    await writeFile(paths.setupDone, new Date().toISOString() + "\n");
  }

  /** Ends every process; a clone cut short is discarded too, so a stopped environment holds no half checkout. */
  async stop(environmentId: string): Promise<{ ended: number; survivors: number[] }> {
    const outcome = await this.options.isolation.end(environmentId, this.options.stopGraceMs);
    const paths = this.paths(environmentId);
    if (outcome.survivors.length === 0 && existsSync(paths.cloneStarted) && !existsSync(paths.cloneDone)) {
      await emptyFolder(paths.checkout);
      await rm(paths.cloneStarted, { force: true });
    }
    return outcome;
  }

  /** Removes the checkout, the runner's notes about it and what the isolation held for it. */
  async remove(environmentId: string): Promise<void> {
    const paths = this.paths(environmentId);
    await this.options.isolation.dispose(environmentId);
    await removeFolder(paths.checkout);
    await removeFolder(paths.state);
  }

  /**
   * Runs argv (no shell) in the checkout, inside the environment. `stillWanted` is asked
   * right after the process started (and was recorded): if the environment stopped meanwhile,
   * the process is ended, so a command cannot slip past a stop that was scanning for
   * processes at the same moment.
   */
  async exec(
    environment: EnvironmentSpec,
    command: string[],
    timeoutSeconds: number,
    stillWanted: () => Promise<boolean>,
  ): Promise<ExecOutput> {
    const paths = this.paths(environment.id);
    if (!existsSync(paths.cloneDone)) {
      throw new RunnerError("FAILED_PRECONDITION", `environment ${environment.id} has no checkout on this runner; start it again`);
    }
    try {
      // Normally running already; after a reboot of the machine, say, it is started again here.
      await this.options.isolation.prepare(environment);
    } catch (error) {
      if (error instanceof StepFailure) throw new RunnerError("FAILED_PRECONDITION", error.message);
      throw error;
    }
    const stdout = new CappedOutput(EXEC_OUTPUT_CAP_BYTES);
    const stderr = new CappedOutput(EXEC_OUTPUT_CAP_BYTES);
    const started = this.options.isolation.start(environment, {
      argv: command,
      timeoutMs: Math.min(timeoutSeconds * 1000, MAX_TIMER_MS),
      killGraceMs: 2_000,
      onStdout: (chunk) => stdout.push(chunk),
      onStderr: (chunk) => stderr.push(chunk),
    });
    if (started.pid !== undefined && !(await stillWanted())) {
      started.terminate();
      await started.result;
      throw new RunnerError("FAILED_PRECONDITION", `environment ${environment.id} stopped while the command was starting`);
    }
    const result = await started.result;
    if (result.spawnError !== null) {
      const program = command[0] ?? "";
      const reason =
        result.spawnError.code === "ENOENT"
          ? "command not found"
          : result.spawnError.code === "EACCES"
            ? "permission denied"
            : result.spawnError.message;
      return { exitCode: result.exitCode, stdout: "", stderr: `${program}: ${reason}\n`, truncated: false, timedOut: false };
    }
    return {
      exitCode: result.timedOut ? EXEC_TIMEOUT_EXIT_CODE : result.exitCode,
      stdout: stdout.text(),
      stderr: stderr.text(),
      truncated: stdout.truncated || stderr.truncated,
      timedOut: result.timedOut,
    };
  }
}

/**
 * A checkout from before clones were noted: it was renamed into place only once complete, so
 * one that exists with neither note is whole (the runner of that time left no half clones there).
 */
function isCompleteLegacyCheckout(paths: EnvironmentPaths): boolean {
  if (existsSync(paths.cloneStarted) || !existsSync(join(paths.checkout, ".git"))) return false;
  mkdirSync(paths.state, { recursive: true, mode: 0o700 });
  return true;
}

/** Empties a folder without following links (a mount point stays, its contents go). */
async function emptyFolder(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return;
    throw error;
  }
  for (const name of names) await removeFolder(join(dir, name));
}

/**
 * rm -rf that also gets through folders an environment made unreadable (chmod 000) when the
 * runner is not root and so cannot ignore permissions. Links are removed, never followed.
 */
async function removeFolder(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    if (errnoOf(error) !== "EACCES" && errnoOf(error) !== "EPERM") throw error;
    await makeWritable(path);
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function makeWritable(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => null);
  if (stat === null || !stat.isDirectory()) return;
  await chmod(path, 0o700);
  for (const name of await readdir(path)) await makeWritable(join(path, name));
}

/** Keeps the first `cap` bytes of a stream and notes whether anything was cut. */
export class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  /** The kept bytes as UTF-8; a character cut in half at the cap is dropped, not mangled. */
  text(): string {
    return new StringDecoder("utf8").write(Buffer.concat(this.chunks));
  }
}
