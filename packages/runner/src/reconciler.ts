import type { EnvironmentPhase } from "@ona/contracts";
import type { Db, EnvironmentRow } from "@ona/db";
import { EnvironmentLogWriter } from "./environment-log";
import { StepAborted, StepFailure, messageOf } from "./errors";
import { Leases } from "./lease";
import type { Clock, RunnerLogger } from "./logger";
import { Phase, atDesiredPhase, notAtDesiredPhase, planStep, type WorkPhase } from "./phases";
import { DEFAULT_LIMITS, limitsFromConfiguration } from "./isolation";
import type { EnvironmentRuntime } from "./runtime";
import type { EnvironmentSpec } from "./workspace";

/** Reported around every step a runner process takes on an environment (for observability and tests). */
export interface StepEvent {
  environmentId: string;
  processId: string;
  /** A work phase (ENVIRONMENT_PHASE_CREATING, …) or `enter:<phase>` for a phase change without work. */
  step: string;
  event: "start" | "end";
  /** With `end`: done; failed (recorded as the environment's failure); aborted (to be resumed); lost (the lease or the phase changed under us). */
  outcome?: "done" | "failed" | "aborted" | "lost";
}

export interface ReconcilerOptions {
  db: Db;
  runnerId: string;
  processId: string;
  clock: Clock;
  logger: RunnerLogger;
  leaseMs: number;
  maxConcurrent: number;
  runtime: EnvironmentRuntime;
  onStep?: (event: StepEvent) => void;
}

/** Guards against a loop of phase changes that never settles (it cannot happen by the rules; this makes sure). */
const MAX_STEPS_PER_CLAIM = 12;

interface Worker {
  promise: Promise<void>;
  controller: AbortController;
}

interface ActiveStep {
  /** The desired phase the step was started for. */
  desired: string;
  controller: AbortController;
  /** Clone and setup are given up when the user asks for something else; stop and delete are short and always finish. */
  interruptible: boolean;
}

interface RenewalState {
  /** Real time (not the injected clock) of the last successful renewal or the claim. */
  lastRenewedAt: number;
}

const WORK_LABEL: Record<WorkPhase, string> = {
  [Phase.CREATING]: "clone",
  [Phase.STARTING]: "start",
  [Phase.STOPPING]: "stop",
  [Phase.DELETING]: "delete",
};

/**
 * Drives environments of one runner from their observed phase to the desired one. Each
 * environment is worked by at most one runner process at a time (a lease in its row), by one
 * worker here, one step after another; different environments progress concurrently, up to
 * `maxConcurrent`. Every phase change is one conditional UPDATE that requires our lease and
 * the phase we read, and increments statusVersion.
 */
export class Reconciler {
  private readonly workers = new Map<string, Worker>();
  private readonly leases: Leases;
  /** True while stop() runs: nothing new is picked up. */
  private stopping = false;
  private looping = false;
  private loopTimer: NodeJS.Timeout | undefined;
  private currentPass: Promise<void> = Promise.resolve();
  /** The loop's next step, set by startLoop(); nudge() runs it early. */
  private tick: (() => void) | undefined;
  private passing = false;
  private nudged = false;
  /** The last pass found more pending environments than it had free workers for. */
  private backlog = false;
  private readonly renewIntervalMs: number;

  constructor(private readonly options: ReconcilerOptions) {
    this.leases = new Leases(options.db, options.clock, options.processId, options.leaseMs);
    // Renew well before expiry; the same tick notices a changed desired phase.
    this.renewIntervalMs = Math.max(20, Math.min(options.leaseMs / 3, 5_000));
  }

  /** Polls every `pollIntervalMs` until stop(). */
  startLoop(pollIntervalMs: number): void {
    if (this.looping) return;
    this.looping = true;
    const tick = (): void => {
      this.loopTimer = undefined;
      this.passing = true;
      this.currentPass = this.pass()
        .catch((error: unknown) => this.options.logger.warn("runner poll failed; retrying", { error: messageOf(error) }))
        .finally(() => {
          this.passing = false;
          const again = this.nudged;
          this.nudged = false;
          if (this.looping) this.loopTimer = setTimeout(tick, again ? 0 : pollIntervalMs);
        });
    };
    this.tick = tick;
    this.loopTimer = setTimeout(tick, 0);
  }

  /** Looks for work now rather than at the next poll; during a pass, runs one more right after it. */
  nudge(): void {
    if (!this.looping || this.stopping || this.tick === undefined) return;
    if (this.passing) {
      this.nudged = true;
      return;
    }
    if (this.loopTimer !== undefined) clearTimeout(this.loopTimer);
    this.loopTimer = setTimeout(this.tick, 0);
  }

  /** One pass: picks up what is pending and waits until every environment being worked on is settled. */
  async reconcileOnce(): Promise<void> {
    await this.pass();
    await this.idle();
  }

  /** Stops polling, interrupts clone and setup (they are redone on resume), waits for the workers, releases their leases. */
  async stop(): Promise<void> {
    this.looping = false;
    this.stopping = true;
    try {
      if (this.loopTimer !== undefined) clearTimeout(this.loopTimer);
      await this.currentPass;
      for (const worker of this.workers.values()) worker.controller.abort("runner-stopping");
      await this.idle();
    } finally {
      this.stopping = false;
    }
  }

  private async idle(): Promise<void> {
    while (this.workers.size > 0) {
      await Promise.allSettled([...this.workers.values()].map((worker) => worker.promise));
    }
  }

  private async pass(): Promise<void> {
    if (this.stopping) return;
    const { db, runnerId } = this.options;
    const free = this.options.maxConcurrent - this.workers.size;
    if (free <= 0) this.backlog = true;
    if (free > 0) {
      const candidates = await db.environment.findMany({
        where: {
          id: { notIn: [...this.workers.keys()] },
          OR: notAtDesiredPhase(runnerId),
          AND: [this.leases.claimableFilter(this.options.clock()), this.leases.notFailedFilter()],
        },
        select: { id: true },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: free,
      });
      this.backlog = candidates.length >= free;
      for (const { id } of candidates) {
        if (!this.stopping && !this.workers.has(id)) this.startWorker(id);
      }
    }
    await this.clearStaleFailures();
  }

  /**
   * A failure stays shown until the user asks again; if what they ask for then is already true
   * (stop after a failed start), no step runs that would clear it, so it is cleared here.
   */
  private async clearStaleFailures(): Promise<void> {
    const { db, runnerId } = this.options;
    const stale = await db.environment.findMany({
      // `not: null` lets the (runnerId, failedSpecVersion) index skip the environments that never failed.
      where: {
        runnerId,
        failedSpecVersion: { not: null, lt: db.environment.fields.specVersion },
        OR: atDesiredPhase,
        failureMessage: { not: "[]" },
      },
      select: { id: true, specVersion: true },
      take: 100,
    });
    for (const row of stale) {
      await db.environment.updateMany({
        where: { id: row.id, specVersion: row.specVersion, failedSpecVersion: { lt: row.specVersion } },
        data: { failureMessage: "[]" },
      });
    }
  }

  private startWorker(environmentId: string): void {
    const controller = new AbortController();
    const promise = this.drive(environmentId, controller)
      .catch((error: unknown) =>
        this.options.logger.error("working on an environment failed; it is retried on the next poll", {
          environmentId,
          error: messageOf(error),
        }),
      )
      .finally(() => {
        this.workers.delete(environmentId);
        // A worker is free: when environments were left waiting for one, take the next now.
        if (this.backlog) this.nudge();
      });
    this.workers.set(environmentId, { promise, controller });
  }

  private async drive(environmentId: string, controller: AbortController): Promise<void> {
    const { db, processId, clock, logger } = this.options;
    if (!(await this.leases.claim(environmentId, this.options.runnerId))) return;
    const log = new EnvironmentLogWriter(db, environmentId, clock, logger);
    let active: ActiveStep | null = null;
    let ticking = false;
    const state: RenewalState = { lastRenewedAt: Date.now() };
    const renewal = setInterval(() => {
      if (ticking) return;
      ticking = true;
      void this.renewTick(environmentId, controller, active, state).finally(() => (ticking = false));
    }, this.renewIntervalMs);
    try {
      for (let step = 0; step < MAX_STEPS_PER_CLAIM && !controller.signal.aborted; step++) {
        const row = await db.environment.findUnique({ where: { id: environmentId } });
        if (row === null || row.leaseOwner !== processId) break;
        // Never begin a step on a lease about to run out (a stalled process may not have renewed it).
        const leaseLeft = (row.leaseExpiresAt?.getTime() ?? 0) - clock().getTime();
        if (leaseLeft < this.renewIntervalMs) {
          if (!(await this.leases.renew(environmentId))) break;
          state.lastRenewedAt = Date.now();
        }
        if (row.failedSpecVersion !== null && row.failedSpecVersion >= row.specVersion) break;
        const plan = planStep(row.phase, row.desiredPhase);
        if (plan === null) break;
        if (plan.kind === "enter") {
          if (!(await this.enter(row, plan.to, log))) break;
          continue;
        }
        const stepController = new AbortController();
        const forward = (): void => stepController.abort(controller.signal.reason);
        controller.signal.addEventListener("abort", forward, { once: true });
        active = {
          desired: row.desiredPhase,
          controller: stepController,
          interruptible: plan.phase === Phase.CREATING || plan.phase === Phase.STARTING,
        };
        try {
          const outcome = await this.work(row, plan.phase, log, stepController.signal);
          if (outcome === "failed" || outcome === "lost") break;
        } finally {
          active = null;
          controller.signal.removeEventListener("abort", forward);
        }
      }
    } finally {
      clearInterval(renewal);
      await log.flush();
      await this.leases
        .release(environmentId)
        .catch((error: unknown) => logger.warn("could not release a lease; it expires by itself", { environmentId, error: messageOf(error) }));
    }
  }

  private async renewTick(environmentId: string, controller: AbortController, active: ActiveStep | null, renewal: RenewalState): Promise<void> {
    try {
      if (!(await this.leases.renew(environmentId))) {
        this.options.logger.warn("lost the lease on an environment; another runner process has it now", { environmentId });
        controller.abort("lease-lost");
        return;
      }
      renewal.lastRenewedAt = Date.now();
      if (active?.interruptible === true) {
        const row = await this.options.db.environment.findUnique({ where: { id: environmentId }, select: { desiredPhase: true } });
        if (row !== null && row.desiredPhase !== active.desired) active.controller.abort("superseded");
      }
    } catch (error) {
      // The database may be briefly unavailable: carry on while the lease has time left. Once it
      // may have expired, another process may take the environment, so this one stops working on it.
      if (Date.now() - renewal.lastRenewedAt > this.options.leaseMs * 0.8) {
        this.options.logger.warn("could not renew a lease before it ran out; giving the environment up", {
          environmentId,
          error: messageOf(error),
        });
        controller.abort("lease-lost");
      } else {
        this.options.logger.warn("could not renew a lease; retrying", { environmentId, error: messageOf(error) });
      }
    }
  }

  /** A phase change without work: RUNNING → STOPPING, STOPPED → STARTING, any → DELETING. */
  private async enter(row: EnvironmentRow, to: EnvironmentPhase, log: EnvironmentLogWriter): Promise<boolean> {
    const step = `enter:${to}`;
    this.emit(row.id, step, "start");
    let changed = false;
    try {
      changed = await this.changePhase(row, row.phase, to);
    } finally {
      this.emit(row.id, step, "end", changed ? "done" : "lost");
    }
    if (changed) {
      const said: Partial<Record<EnvironmentPhase, string>> = {
        [Phase.STARTING]: "starting",
        [Phase.STOPPING]: "stopping",
        [Phase.DELETING]: "deleting",
      };
      const text = said[to];
      if (text !== undefined) log.system(text);
    }
    return changed;
  }

  private async work(
    row: EnvironmentRow,
    phase: WorkPhase,
    log: EnvironmentLogWriter,
    signal: AbortSignal,
  ): Promise<"done" | "failed" | "aborted" | "lost"> {
    const { runtime } = this.options;
    this.emit(row.id, phase, "start");
    let next: EnvironmentPhase;
    let done: string;
    try {
      switch (phase) {
        case Phase.CREATING:
          await runtime.ensureCheckout(await this.specOf(row), log, signal);
          next = Phase.STARTING;
          done = "starting";
          break;
        case Phase.STARTING: {
          // Also clones: an environment stopped before its clone finished starts from scratch.
          const spec = await this.specOf(row);
          await runtime.ensureCheckout(spec, log, signal);
          await runtime.ensureSetup(spec, log, signal);
          next = Phase.RUNNING;
          done = "environment is running";
          break;
        }
        case Phase.STOPPING: {
          const { ended } = await this.stopEverything(row.id);
          next = Phase.STOPPED;
          done = `environment stopped${ended > 0 ? ` (${ended} process${ended === 1 ? "" : "es"} ended)` : ""}`;
          break;
        }
        case Phase.DELETING:
          await this.stopEverything(row.id);
          await runtime.remove(row.id);
          next = Phase.DELETED;
          done = "environment deleted";
          break;
      }
    } catch (error) {
      if (error instanceof StepAborted || signal.aborted) {
        log.system(`${WORK_LABEL[phase]} interrupted (${String(signal.reason)}); it resumes from where it can`);
        this.emit(row.id, phase, "end", "aborted");
        return "aborted";
      }
      const message = error instanceof StepFailure ? error.message : `${WORK_LABEL[phase]} failed: ${messageOf(error)}`;
      try {
        await this.recordFailure(row, phase, message, log);
      } finally {
        this.emit(row.id, phase, "end", "failed");
      }
      return "failed";
    }
    let changed = false;
    try {
      changed = await this.changePhase(row, phase, next, next === Phase.RUNNING ? { lastStartedAt: this.options.clock() } : {});
    } finally {
      this.emit(row.id, phase, "end", changed ? "done" : "lost");
    }
    if (changed) log.system(done);
    return changed ? "done" : "lost";
  }

  /** What the runtime needs of an environment: its identity and its class's limits. */
  private async specOf(row: EnvironmentRow): Promise<EnvironmentSpec> {
    const environmentClass = await this.options.db.environmentClass.findUnique({ where: { id: row.classId }, select: { configuration: true } });
    return { id: row.id, contextUrl: row.contextUrl, limits: environmentClass === null ? DEFAULT_LIMITS : limitsFromConfiguration(environmentClass.configuration) };
  }

  private async stopEverything(environmentId: string): Promise<{ ended: number }> {
    const { ended, survivors } = await this.options.runtime.stop(environmentId);
    if (survivors.length > 0) {
      throw new StepFailure(
        `${survivors.length} process${survivors.length === 1 ? "" : "es"} of the environment would not end (pid ${survivors.join(", ")}); end ${survivors.length === 1 ? "it" : "them"} by hand and try again`,
      );
    }
    return { ended };
  }

  /**
   * One write: the failure message, failedSpecVersion (so the attempt is not repeated until
   * the user asks again) and, for a failed clone or start, the phase STOPPED — with whatever
   * the failed setup left running ended first. A failed stop or delete stays where it is.
   */
  private async recordFailure(row: EnvironmentRow, phase: WorkPhase, message: string, log: EnvironmentLogWriter): Promise<void> {
    const to = phase === Phase.CREATING || phase === Phase.STARTING ? Phase.STOPPED : phase;
    if (phase === Phase.STARTING) {
      await this.options.runtime.stop(row.id).catch(() => undefined);
    }
    log.system(`failed: ${message}`);
    this.options.logger.warn("environment step failed", { environmentId: row.id, step: WORK_LABEL[phase], error: message });
    await this.options.db.environment.updateMany({
      where: { id: row.id, leaseOwner: this.options.processId, phase },
      data: {
        phase: to,
        ...(to === phase ? {} : { statusVersion: { increment: 1 } }),
        failureMessage: JSON.stringify([message]),
        failedSpecVersion: row.specVersion,
      },
    });
  }

  /** The only way a phase changes: conditional on our lease and on the phase we read. */
  private async changePhase(row: EnvironmentRow, from: string, to: EnvironmentPhase, extra: { lastStartedAt?: Date } = {}): Promise<boolean> {
    const result = await this.options.db.environment.updateMany({
      where: { id: row.id, leaseOwner: this.options.processId, phase: from },
      data: { phase: to, statusVersion: { increment: 1 }, ...extra },
    });
    return result.count === 1;
  }

  private emit(environmentId: string, step: string, event: "start" | "end", outcome?: StepEvent["outcome"]): void {
    if (this.options.onStep === undefined) return;
    try {
      this.options.onStep({ environmentId, processId: this.options.processId, step, event, ...(outcome ? { outcome } : {}) });
    } catch (error) {
      this.options.logger.warn("a step observer threw", { error: messageOf(error) });
    }
  }
}
