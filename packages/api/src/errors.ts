import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { httpStatusOf, type ErrorCode, type FieldIssue } from "@ona/contracts";

/** RFC 6750 challenge to send in WWW-Authenticate with a 401 or 403. */
export type AuthChallenge = "missing" | "invalid_request" | "invalid_token" | "insufficient_scope";

/**
 * The one error type services throw. It says what went wrong and what to do about it, in
 * words fit for a user; it never contains a secret. Mapped to tRPC, HTTP and CLI exactly once
 * (trpcCodeOf here, httpStatusOf in contracts, the SDK's error classes, the CLI's exit codes).
 */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly challenge: AuthChallenge | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    extra: { issues?: FieldIssue[]; retryAfterSeconds?: number; challenge?: AuthChallenge } = {},
  ) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.issues = extra.issues;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.challenge = extra.challenge;
  }
}

export const trpcCodeOf = {
  UNAUTHENTICATED: "UNAUTHORIZED",
  PERMISSION_DENIED: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  VALIDATION: "BAD_REQUEST",
  CONFLICT: "CONFLICT",
  FAILED_PRECONDITION: "PRECONDITION_FAILED",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
} as const satisfies Record<ErrorCode, TRPC_ERROR_CODE_KEY>;

/** For errors tRPC raises itself (bad JSON, unknown procedure, input validation, wrong media type). */
const onaCodeOfTrpc = {
  PARSE_ERROR: "VALIDATION",
  BAD_REQUEST: "VALIDATION",
  UNPROCESSABLE_CONTENT: "VALIDATION",
  METHOD_NOT_SUPPORTED: "VALIDATION",
  PAYLOAD_TOO_LARGE: "VALIDATION",
  UNSUPPORTED_MEDIA_TYPE: "VALIDATION",
  PRECONDITION_REQUIRED: "FAILED_PRECONDITION",
  PRECONDITION_FAILED: "FAILED_PRECONDITION",
  NOT_FOUND: "NOT_FOUND",
  UNAUTHORIZED: "UNAUTHENTICATED",
  PAYMENT_REQUIRED: "PERMISSION_DENIED",
  FORBIDDEN: "PERMISSION_DENIED",
  TOO_MANY_REQUESTS: "RATE_LIMITED",
  CONFLICT: "CONFLICT",
  TIMEOUT: "UNAVAILABLE",
  CLIENT_CLOSED_REQUEST: "UNAVAILABLE",
  SERVICE_UNAVAILABLE: "UNAVAILABLE",
  BAD_GATEWAY: "UNAVAILABLE",
  GATEWAY_TIMEOUT: "UNAVAILABLE",
  NOT_IMPLEMENTED: "INTERNAL",
  INTERNAL_SERVER_ERROR: "INTERNAL",
} as const satisfies Record<TRPC_ERROR_CODE_KEY, ErrorCode>;

export function toTrpcError(error: ServiceError): TRPCError {
  return new TRPCError({ code: trpcCodeOf[error.code], message: error.message, cause: error });
}

export function serviceErrorOf(error: TRPCError): ServiceError | undefined {
  return error.cause instanceof ServiceError ? error.cause : undefined;
}

export function onaCodeOf(error: TRPCError): ErrorCode {
  return serviceErrorOf(error)?.code ?? onaCodeOfTrpc[error.code];
}

export { httpStatusOf };

export const notFound = (what: string, id: string) =>
  new ServiceError("NOT_FOUND", `${what} ${id} was not found`);
