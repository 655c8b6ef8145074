import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import type { ExecOutput } from "@ona/contracts";
import type { Db } from "@ona/db";
import type { ExecRequest, RunnerClient } from "./client";
import { RunnerError, messageOf } from "./errors";
import { consoleRunnerLogger, systemClock, type Clock, type RunnerLogger } from "./logger";
import { Phase } from "./phases";
import { Reconciler, type StepEvent } from "./reconciler";
import { recordHeartbeat, registerRunner } from "./registry";
import { createIsolation, limitsFromConfiguration, type IsolationReport, type RuntimeMode, type UidRange } from "./isolation";
import { resolveRepositorySource, type RepositorySourcePolicy } from "./repository-source";
import { LocalRuntime } from "./runtime";
import { isSafeEnvironmentId } from "./workspace";

export interface LocalRunnerOptions {
  db: Db;
  /** The Runner row this process acts for; environments carry it. Processes sharing one must share `environmentsDir`. */
  runnerId?: string;
  /** Shown for the runner; defaults to "Local runner". */
  runnerName?: string;
  /** Each environment's folder is created here. */
  environmentsDir: string;
  /** Names this process in leases; unique per process by default. */
  processId?: string;
  clock?: Clock;
  logger?: RunnerLogger;
  /** How long a claim on an environment lasts without renewal (a crashed process's work is picked up after this). */
  leaseMs?: number;
  /** How often the database is polled for environments to work on. */
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** Environments worked on at the same time. */
  maxConcurrentEnvironments?: number;
  cloneTimeoutMs?: number;
  setupTimeoutMs?: number;
  /** How long an environment's processes get to exit after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** This process's variables; environments take only LANG and TERM from them (and, in single-user mode, PATH and HOME). */
  runnerEnv?: Readonly<Record<string, string | undefined>>;
  /** "sandbox" (the default): each environment in a sandbox of its own; "host": single-user mode, no sandbox. */
  runtime?: RuntimeMode;
  /** Folders under which local repositories may be cloned (file:// or a path). None by default. */
  localRepositories?: string[];
  /** Folders never cloned from and never visible to an environment (the server's data directory). */
  protectedDirs?: string[];
  /** "private" (the default): a network namespace per environment; "shared": the host's network. */
  sandboxNetwork?: "private" | "shared";
  /** Host uids for environments when the runner is root. */
  sandboxUids?: UidRange;
  /** Called around every step, e.g. to trace which process works on what. */
  onStep?: (event: StepEvent) => void;
}

export interface LocalRunner extends RunnerClient {
  readonly runnerId: string;
  /** What the runner can guarantee about its environments' isolation, and what it cannot. */
  readonly isolation: IsolationReport;
  readonly processId: string;
  /** Registers the runner (seeding its classes on first start), then starts the heartbeat and the reconcile loop. */
  start(): Promise<void>;
  /** Stops the loops and waits for the work in flight to end; environments are left to be resumed. */
  stop(): Promise<void>;
  /** One reconcile pass, waiting until the environments it picked up are settled (for tests and tools). */
  reconcileOnce(): Promise<void>;
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const DEFAULT_SETUP_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_CLONE_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_STOP_GRACE_MS = 5_000;
const DEFAULT_MAX_CONCURRENT = 4;

export function defaultProcessId(runnerId: string): string {
  return `${runnerId}@${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

export function createLocalRunner(options: LocalRunnerOptions): LocalRunner {
  const runnerId = options.runnerId ?? "local";
  const processId = options.processId ?? defaultProcessId(runnerId);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? consoleRunnerLogger;
  const { db } = options;
  const sources: RepositorySourcePolicy = {
    localRepositories: options.localRepositories ?? [],
    forbidden: [options.environmentsDir, ...(options.protectedDirs ?? [])],
  };
  const isolation = createIsolation({
    mode: options.runtime ?? "sandbox",
    environmentsDir: options.environmentsDir,
    runnerEnv: options.runnerEnv ?? process.env,
    ...(options.sandboxNetwork ? { network: options.sandboxNetwork } : {}),
    ...(options.sandboxUids ? { uidRange: options.sandboxUids } : {}),
    localSource: (contextUrl) => {
      try {
        const source = resolveRepositorySource(contextUrl, sources, { resolveLinks: true });
        // A repository that is not there (yet) is not bound; git then says it does not exist.
        return source.kind === "local" && existsSync(source.path) ? source.path : null;
      } catch {
        return null;
      }
    },
  });
  const runtime = new LocalRuntime({
    environmentsDir: options.environmentsDir,
    isolation,
    sources,
    cloneTimeoutMs: options.cloneTimeoutMs ?? DEFAULT_CLONE_TIMEOUT_MS,
    setupTimeoutMs: options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS,
    stopGraceMs: options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
  });
  const reconciler = new Reconciler({
    db,
    runnerId,
    processId,
    clock,
    logger,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    maxConcurrent: options.maxConcurrentEnvironments ?? DEFAULT_MAX_CONCURRENT,
    runtime,
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  let heartbeat: NodeJS.Timeout | undefined;
  let started = false;

  const beat = async (): Promise<void> => {
    try {
      if (!(await recordHeartbeat(db, runnerId, clock))) {
        // The row was removed (an administrator cleaning up): register again rather than go silent.
        await registerRunner(db, { id: runnerId, name: options.runnerName ?? "Local runner", kind: "local", isolation: isolation.report }, clock);
      }
    } catch (error) {
      logger.warn("runner heartbeat failed", { runnerId, error: messageOf(error) });
    }
  };

  return {
    runnerId,
    processId,

    isolation: isolation.report,

    async start() {
      if (started) return;
      await registerRunner(db, { id: runnerId, name: options.runnerName ?? "Local runner", kind: "local", isolation: isolation.report }, clock);
      reportIsolation(logger, runnerId, isolation.report);
      started = true;
      heartbeat = setInterval(() => void beat(), options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
      reconciler.startLoop(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
      logger.info("runner started", { runnerId, processId, environmentsDir: options.environmentsDir });
    },

    async stop() {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      heartbeat = undefined;
      await reconciler.stop();
      if (started) logger.info("runner stopped", { runnerId, processId });
      started = false;
    },

    reconcileOnce: () => reconciler.reconcileOnce(),

    nudge: () => reconciler.nudge(),

    async exec(request: ExecRequest): Promise<ExecOutput> {
      validateExecRequest(request);
      const row = isSafeEnvironmentId(request.environmentId)
        ? await db.environment.findUnique({
            where: { id: request.environmentId },
            select: { id: true, runnerId: true, phase: true, contextUrl: true, class: { select: { configuration: true } } },
          })
        : null;
      if (row === null) throw new RunnerError("NOT_FOUND", `environment ${request.environmentId} not found`);
      if (row.runnerId !== runnerId) {
        throw new RunnerError("FAILED_PRECONDITION", `environment ${row.id} is run by runner ${row.runnerId}, not by ${runnerId}`);
      }
      if (row.phase !== Phase.RUNNING) {
        throw new RunnerError("FAILED_PRECONDITION", `environment ${row.id} is not running; start it first`);
      }
      const stillRunning = async (): Promise<boolean> =>
        (await db.environment.findUnique({ where: { id: row.id }, select: { phase: true } }))?.phase === Phase.RUNNING;
      const spec = { id: row.id, contextUrl: row.contextUrl, limits: limitsFromConfiguration(row.class.configuration) };
      return runtime.exec(spec, request.command, request.timeoutSeconds, stillRunning);
    },
  };
}

/** Said at every start: an operator must not miss that environments run without a sandbox, or cannot run. */
function reportIsolation(logger: RunnerLogger, runnerId: string, report: IsolationReport): void {
  if (report.problem !== null) {
    logger.error("environments cannot run on this runner", { runnerId, problem: report.problem });
    return;
  }
  logger.info("environment isolation", { runnerId, mode: report.mode, properties: report.properties });
  for (const warning of report.warnings) logger.warn("environment isolation is weaker than it could be", { runnerId, warning });
}

function validateExecRequest(request: ExecRequest): void {
  if (!Array.isArray(request.command) || request.command.length === 0 || request.command.some((arg) => typeof arg !== "string")) {
    throw new RunnerError("INVALID_ARGUMENT", "command must be a non-empty array of strings");
  }
  if (request.command.some((arg) => arg.includes("\0"))) {
    throw new RunnerError("INVALID_ARGUMENT", "command arguments cannot contain NUL bytes");
  }
  if (typeof request.timeoutSeconds !== "number" || !Number.isFinite(request.timeoutSeconds) || request.timeoutSeconds <= 0) {
    throw new RunnerError("INVALID_ARGUMENT", "timeoutSeconds must be a positive number");
  }
}
