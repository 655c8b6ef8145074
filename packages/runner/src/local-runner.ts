import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { ExecOutput } from "@ona/contracts";
import type { Db } from "@ona/db";
import type { ExecRequest, RunnerClient } from "./client";
import { RunnerError, messageOf } from "./errors";
import { consoleRunnerLogger, systemClock, type Clock, type RunnerLogger } from "./logger";
import { Phase } from "./phases";
import { Reconciler, type StepEvent } from "./reconciler";
import { recordHeartbeat, registerRunner } from "./registry";
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
  /** Variables environments inherit; defaults to this process's (server-only ones are always removed). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Called around every step, e.g. to trace which process works on what. */
  onStep?: (event: StepEvent) => void;
}

export interface LocalRunner extends RunnerClient {
  readonly runnerId: string;
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
  const runtime = new LocalRuntime({
    environmentsDir: options.environmentsDir,
    baseEnv: options.baseEnv ?? process.env,
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
        await registerRunner(db, { id: runnerId, name: options.runnerName ?? "Local runner", kind: "local" }, clock);
      }
    } catch (error) {
      logger.warn("runner heartbeat failed", { runnerId, error: messageOf(error) });
    }
  };

  return {
    runnerId,
    processId,

    async start() {
      if (started) return;
      await registerRunner(db, { id: runnerId, name: options.runnerName ?? "Local runner", kind: "local" }, clock);
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
            select: { id: true, runnerId: true, phase: true, contextUrl: true },
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
      return runtime.exec(row, request.command, request.timeoutSeconds, stillRunning);
    },
  };
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
