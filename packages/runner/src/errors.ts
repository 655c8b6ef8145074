/** What went wrong, in terms a caller (the API, the HTTP handler) can map without parsing messages. */
export type RunnerErrorCode = "NOT_FOUND" | "FAILED_PRECONDITION" | "INVALID_ARGUMENT" | "UNAUTHENTICATED" | "UNAVAILABLE" | "INTERNAL";

/** An error of the runner's own making, with a message meant for the user. */
export class RunnerError extends Error {
  override name = "RunnerError";
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A step (clone, setup, stop, delete) that failed for a reason the user has to act on: its
 * message goes to the environment's failureMessage and the attempt is not repeated until the
 * user asks again.
 */
export class StepFailure extends Error {
  override name = "StepFailure";
}

/** Why a step was interrupted from outside; none of these is the environment's fault. */
export type AbortReason = "lease-lost" | "superseded" | "runner-stopping";

export class StepAborted extends Error {
  override name = "StepAborted";
  constructor(readonly reason: AbortReason) {
    super(`step aborted: ${reason}`);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The errno code of a Node system error (ENOENT, ESRCH, …), if it is one. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}
