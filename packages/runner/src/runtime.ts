import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { ExecOutput } from "@ona/contracts";
import { EXEC_OUTPUT_CAP_BYTES } from "./client";
import type { EnvironmentLogWriter } from "./environment-log";
import { RunnerError, StepFailure } from "./errors";
import { cloneRepository } from "./git";
import { endEnvironmentProcesses, startProcess } from "./processes";
import { findSetup, runSetup } from "./setup";
import { environmentPaths, environmentVariables, trackerFor, type EnvironmentIdentity } from "./workspace";

export interface LocalRuntimeOptions {
  environmentsDir: string;
  /** The variables environments inherit (server-only ones are removed). */
  baseEnv: NodeJS.ProcessEnv;
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
 * folder and process groups; a Kubernetes one would use a volume and a pod (see README.md).
 * Every method must be safe to call again after an interruption at any point.
 */
export interface EnvironmentRuntime {
  /** Makes sure the repository is checked out (cloning it if not). */
  ensureCheckout(environment: EnvironmentIdentity, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void>;
  /** Makes sure the repository's setup has run to success once for this checkout. */
  ensureSetup(environment: EnvironmentIdentity, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void>;
  /**
   * Ends everything the environment runs and discards unfinished work (a partial clone); the
   * checkout stays. Reports the processes that would not end (then nothing is discarded).
   */
  stop(environmentId: string): Promise<{ ended: number; survivors: number[] }>;
  /** Removes everything the environment had. */
  remove(environmentId: string): Promise<void>;
}

/**
 * The machine side of the local runner: folders, git, setup and processes. It knows nothing of
 * phases or leases; the reconciler decides when to call what, and is the only caller of the
 * state-changing methods for a given environment at any time.
 */
export class LocalRuntime implements EnvironmentRuntime {
  constructor(private readonly options: LocalRuntimeOptions) {}

  paths(environmentId: string) {
    return environmentPaths(this.options.environmentsDir, environmentId);
  }

  /**
   * Clones the repository unless the checkout exists. The clone goes to a temporary folder
   * that is renamed into place when complete (a rename is atomic), so a checkout that exists
   * is always a whole one, and a clone cut short by a crash is simply done again.
   */
  async ensureCheckout(environment: EnvironmentIdentity, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void> {
    const paths = this.paths(environment.id);
    if (existsSync(paths.checkout)) return;
    const tracker = trackerFor(paths, environment.id);
    if (existsSync(paths.state)) {
      // An earlier attempt: a git left running by a runner that died mid-clone would still be writing.
      const { survivors } = await this.stop(environment.id);
      if (survivors.length > 0) throw new StepFailure(`an earlier clone of this environment would not end (pid ${survivors.join(", ")})`);
    }
    mkdirSync(paths.state, { recursive: true });
    // A new checkout needs its setup run, whatever an earlier one had done.
    await rm(paths.setupDone, { force: true });
    const temporary = join(paths.state, `clone-${randomUUID().slice(0, 8)}`);
    try {
      await cloneRepository({
        contextUrl: environment.contextUrl,
        destination: temporary,
        env: environmentVariables(this.options.baseEnv, environment),
        log,
        tracker,
        timeoutMs: this.options.cloneTimeoutMs,
        signal,
        cwd: process.cwd(),
      });
      await rename(temporary, paths.checkout);
    } finally {
      await rm(temporary, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /**
   * Runs the repository's setup once per checkout: after it succeeds a marker is written, so
   * a later start does not run it again, while a setup cut short (crash, stop, failure) runs
   * again from the beginning, after whatever it had left running is ended.
   */
  async ensureSetup(environment: EnvironmentIdentity, log: EnvironmentLogWriter, signal: AbortSignal): Promise<void> {
    const paths = this.paths(environment.id);
    if (existsSync(paths.setupDone)) return;
    const commands = findSetup(paths.checkout);
    if (commands.length === 0) {
      log.system("no setup declared (.ona/setup.sh or postCreateCommand in .devcontainer/devcontainer.json)");
    } else {
      // Whatever an interrupted earlier run of the setup left running goes first.
      const { survivors } = await this.stop(environment.id);
      if (survivors.length > 0) throw new StepFailure(`an earlier setup of this environment would not end (pid ${survivors.join(", ")})`);
      await runSetup({
        checkout: paths.checkout,
        commands,
        env: environmentVariables(this.options.baseEnv, environment),
        log,
        tracker: trackerFor(paths, environment.id),
        timeoutMs: this.options.setupTimeoutMs,
        killGraceMs: this.options.stopGraceMs,
        signal,
      });
    }
    mkdirSync(paths.state, { recursive: true });
    await writeFile(paths.setupDone, new Date().toISOString() + "\n");
  }

  async stop(environmentId: string): Promise<{ ended: number; survivors: number[] }> {
    const paths = this.paths(environmentId);
    const outcome = await endEnvironmentProcesses(trackerFor(paths, environmentId), environmentId, this.options.stopGraceMs);
    if (outcome.survivors.length === 0) await this.discardPartialClones(paths.state);
    return outcome;
  }

  /** Temporary clone folders: only ever complete once renamed, so any left over is a cut-off clone. */
  private async discardPartialClones(stateDir: string): Promise<void> {
    if (!existsSync(stateDir)) return;
    for (const name of readdirSync(stateDir)) {
      if (name.startsWith("clone-")) await rm(join(stateDir, name), { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /** Removes the checkout and the runner's notes about it. */
  async remove(environmentId: string): Promise<void> {
    const paths = this.paths(environmentId);
    await rm(paths.checkout, { recursive: true, force: true, maxRetries: 3 });
    await rm(paths.state, { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * Runs argv (no shell) in the checkout. `stillWanted` is asked right after the process
   * started (and was recorded): if the environment stopped meanwhile, the process is ended,
   * so a command cannot slip past a stop that was scanning for processes at the same moment.
   */
  async exec(
    environment: EnvironmentIdentity,
    command: string[],
    timeoutSeconds: number,
    stillWanted: () => Promise<boolean>,
  ): Promise<ExecOutput> {
    const paths = this.paths(environment.id);
    if (!existsSync(paths.checkout)) {
      throw new RunnerError("FAILED_PRECONDITION", `environment ${environment.id} has no folder on this runner; start it again`);
    }
    const stdout = new CappedOutput(EXEC_OUTPUT_CAP_BYTES);
    const stderr = new CappedOutput(EXEC_OUTPUT_CAP_BYTES);
    const started = startProcess({
      argv: command,
      cwd: paths.checkout,
      env: environmentVariables(this.options.baseEnv, environment),
      timeoutMs: Math.min(timeoutSeconds * 1000, MAX_TIMER_MS),
      killGraceMs: 2_000,
      tracker: trackerFor(paths, environment.id),
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
