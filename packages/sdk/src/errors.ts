import { z } from "zod";
import { ErrorCode, ErrorData, httpStatusOf, type Environment, type EnvironmentPhase, type FieldIssue } from "@ona/contracts";

export interface OnaErrorInit {
  message: string;
  code: ErrorCode;
  /** The HTTP status the server answered with (or would have, for errors raised locally). */
  httpStatus?: number;
  issues?: FieldIssue[];
  retryAfterSeconds?: number;
  /** The procedure that failed, e.g. `environment.create`. */
  path?: string;
  cause?: unknown;
}

/**
 * Every failure of a call to the Ona API. `message` is the server's own, written for users
 * ("the token is read-only: create a read & write token to make changes"); `code` is the
 * contract's ErrorCode, so programs branch on it rather than on the text.
 */
export class OnaError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly issues: FieldIssue[];
  readonly retryAfterSeconds: number | undefined;
  readonly path: string | undefined;

  constructor(init: OnaErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "OnaError";
    this.code = init.code;
    this.httpStatus = init.httpStatus ?? httpStatusOf[init.code];
    this.issues = init.issues ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.path = init.path;
  }
}

/** 401: no token, or the token is malformed, unknown, revoked or expired. */
export class AuthenticationError extends OnaError {
  override name = "AuthenticationError";
}
/** 403: the credentials are valid but may not do this (e.g. a read-only token on a write). */
export class PermissionError extends OnaError {
  override name = "PermissionError";
}
/** 404: no such resource, or one that belongs to someone else. */
export class NotFoundError extends OnaError {
  override name = "NotFoundError";
}
/** 400: the input was refused; `issues` says which field and why. */
export class ValidationError extends OnaError {
  override name = "ValidationError";
}
/** 409: the request conflicts with the current state. */
export class ConflictError extends OnaError {
  override name = "ConflictError";
}
/** 412: the resource is not in a state that allows this (e.g. exec on a stopped environment). */
export class PreconditionError extends OnaError {
  override name = "PreconditionError";
}
/** 429: too many attempts; `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends OnaError {
  override name = "RateLimitedError";
}
/** 503, or the server could not be reached at all. */
export class UnavailableError extends OnaError {
  override name = "UnavailableError";
}
/** 500: the server failed; it logged the details. */
export class InternalError extends OnaError {
  override name = "InternalError";
}

/** The one mapping from the contract's error codes to error classes. */
export const errorClassOf = {
  UNAUTHENTICATED: AuthenticationError,
  PERMISSION_DENIED: PermissionError,
  NOT_FOUND: NotFoundError,
  VALIDATION: ValidationError,
  CONFLICT: ConflictError,
  FAILED_PRECONDITION: PreconditionError,
  RATE_LIMITED: RateLimitedError,
  UNAVAILABLE: UnavailableError,
  INTERNAL: InternalError,
} as const satisfies Record<ErrorCode, new (init: OnaErrorInit) => OnaError>;

/** Builds the error class for a code. */
export function onaError(init: OnaErrorInit): OnaError {
  const ErrorClass = errorClassOf[init.code];
  return new ErrorClass(init);
}

/** `error.data` of a tRPC error body: the contract's ErrorData plus the procedure path. */
const ServerErrorData = ErrorData.extend({ path: z.string().optional() });

/** Reads the `data` of a tRPC error body as the server shapes it; null when it is not one. */
export function errorFromServerData(message: string, data: unknown, cause?: unknown): OnaError | null {
  const parsed = ServerErrorData.safeParse(data);
  if (!parsed.success) return null;
  return onaError({
    message,
    code: parsed.data.onaCode,
    httpStatus: parsed.data.httpStatus,
    ...(parsed.data.issues ? { issues: parsed.data.issues } : {}),
    ...(parsed.data.retryAfterSeconds !== undefined ? { retryAfterSeconds: parsed.data.retryAfterSeconds } : {}),
    ...(parsed.data.path !== undefined ? { path: parsed.data.path } : {}),
    cause,
  });
}

/** Maps an HTTP status to a code, for answers that carry no Ona error body (proxies, old servers). */
export function errorCodeOfHttpStatus(status: number): ErrorCode {
  for (const code of ErrorCode.options) {
    if (httpStatusOf[code] === status) return code;
  }
  if (status === 502 || status === 504) return "UNAVAILABLE";
  if (status >= 500) return "INTERNAL";
  return "VALIDATION";
}

/** The environment reached a failure instead of the phase waited for. */
export class EnvironmentFailedError extends Error {
  override name = "EnvironmentFailedError";
  constructor(
    readonly environment: Environment,
    readonly wantedPhase: EnvironmentPhase,
    /** Why, when it is not the environment's own failure message. */
    reason?: string,
  ) {
    super(reason ?? (environment.status.failureMessage.join("; ") || `environment ${environment.id} failed`));
  }
  get failureMessage(): string[] {
    return this.environment.status.failureMessage;
  }
}

/** The environment did not reach the phase within the time allowed. */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
  constructor(
    readonly environment: Environment | null,
    readonly wantedPhase: EnvironmentPhase,
    readonly timeoutMs: number,
  ) {
    const id = environment?.id ?? "the environment";
    const phase = environment ? environment.status.phase.replace("ENVIRONMENT_PHASE_", "").toLowerCase() : "unknown";
    super(
      `timed out after ${formatDuration(timeoutMs)} waiting for environment ${id} to be ${wantedPhase.replace("ENVIRONMENT_PHASE_", "").toLowerCase()} (it is ${phase})`,
    );
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 60) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}
