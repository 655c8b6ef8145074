import type { Environment, EnvironmentPhase } from "@ona/contracts";
import { EnvironmentFailedError, OnaError, RateLimitedError, UnavailableError, WaitTimeoutError } from "./errors";

/** What waitForEnvironment needs of a client: reading one environment. */
export interface EnvironmentReader {
  readonly environments: { get(id: string): Promise<Environment> };
}

export interface WaitOptions {
  /** Give up after this long with a WaitTimeoutError. Default: 10 minutes. */
  timeoutMs?: number;
  /** Time between reads. Default: starts at 250 ms and backs off to 2 s. */
  pollIntervalMs?: number;
  /** Called with the first reading and with every reading that differs from the one before. */
  onProgress?: (environment: Environment) => void;
  /**
   * The environment as the call that started this wait returned it (create, start, stop…).
   * A failure message it already carried belongs to an earlier attempt: it is ignored until the
   * environment moves on. Without it, any failure message ends the wait.
   */
  since?: Environment;
  signal?: AbortSignal;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60 * 1000;
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2000;

const short = (phase: EnvironmentPhase) => phase.replace("ENVIRONMENT_PHASE_", "").toLowerCase();

function fingerprint(environment: Environment): string {
  const { phase, statusVersion, failureMessage } = environment.status;
  return JSON.stringify([phase, statusVersion, failureMessage, environment.spec.desiredPhase]);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves with the value, or with `onTimeout` when the deadline passes first. */
async function beforeDeadline<T, U>(promise: Promise<T>, deadline: number, onTimeout: U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), Math.max(0, deadline - Date.now()));
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why waiting for `wanted` cannot succeed any more, or null while it still can. */
function hopeless(environment: Environment, wanted: EnvironmentPhase): string | null {
  const { phase } = environment.status;
  const desired = environment.spec.desiredPhase;
  if (wanted !== "ENVIRONMENT_PHASE_DELETED" && (phase === "ENVIRONMENT_PHASE_DELETED" || desired === "ENVIRONMENT_PHASE_DELETED")) {
    return `environment ${environment.id} was deleted while waiting for it to be ${short(wanted)}`;
  }
  const settable: EnvironmentPhase[] = ["ENVIRONMENT_PHASE_RUNNING", "ENVIRONMENT_PHASE_STOPPED", "ENVIRONMENT_PHASE_DELETED"];
  if (settable.includes(wanted) && desired !== wanted) {
    return `environment ${environment.id} is no longer meant to be ${short(wanted)}: it was asked to be ${short(desired)} meanwhile`;
  }
  return null;
}

/**
 * Polls an environment until it reaches `phase`.
 * - resolves with the environment once `status.phase` is `phase`;
 * - rejects with an EnvironmentFailedError carrying `status.failureMessage` when a failure is
 *   reported before the phase is reached (e.g. the clone failed and it landed in STOPPED), or
 *   when the environment is deleted or asked for another phase meanwhile;
 * - rejects with a WaitTimeoutError after `timeoutMs`;
 * - rejects with the OnaError of a read that fails for another reason than the server being
 *   briefly unreachable or rate-limiting (those are retried until the deadline).
 */
export async function waitForEnvironment(
  client: EnvironmentReader,
  id: string,
  phase: EnvironmentPhase,
  options: WaitOptions = {},
): Promise<Environment> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const since = options.since;
  let staleFailure =
    since && since.status.failureMessage.length > 0
      ? { version: since.status.statusVersion, messages: JSON.stringify(since.status.failureMessage) }
      : null;
  let last: Environment | null = since ?? null;
  let lastFingerprint: string | null = null;
  let interval = options.pollIntervalMs ?? FIRST_POLL_MS;
  const TIMED_OUT = Symbol("timed out");

  for (;;) {
    options.signal?.throwIfAborted();
    let environment: Environment | typeof TIMED_OUT | null = null;
    let retryAfterMs = 0;
    try {
      environment = await beforeDeadline(client.environments.get(id), deadline, TIMED_OUT);
    } catch (error) {
      const transient = error instanceof UnavailableError || error instanceof RateLimitedError;
      if (!transient || !(error instanceof OnaError)) throw error;
      retryAfterMs = (error.retryAfterSeconds ?? 0) * 1000;
    }
    if (environment === TIMED_OUT) throw new WaitTimeoutError(last, phase, timeoutMs);

    if (environment) {
      last = environment;
      const print = fingerprint(environment);
      if (print !== lastFingerprint) {
        lastFingerprint = print;
        options.onProgress?.(environment);
      }
      const { status } = environment;
      if (staleFailure && (status.statusVersion !== staleFailure.version || JSON.stringify(status.failureMessage) !== staleFailure.messages)) {
        staleFailure = null;
      }
      if (status.phase === phase) return environment;
      if (status.failureMessage.length > 0 && !staleFailure) throw new EnvironmentFailedError(environment, phase);
      const reason = hopeless(environment, phase);
      if (reason) throw new EnvironmentFailedError(environment, phase, reason);
    }

    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(last, phase, timeoutMs);
    await sleep(Math.min(Math.max(interval, retryAfterMs), remaining), options.signal);
    if (options.pollIntervalMs === undefined) interval = Math.min(Math.round(interval * 1.5), MAX_POLL_MS);
  }
}
