import { z } from "zod";

/**
 * Every failure the API reports carries one of these codes in `error.data.onaCode`.
 * Service errors, tRPC codes, HTTP statuses, SDK error classes and CLI exit codes are
 * all mapped from this one list (exhaustively, so a new code breaks the build).
 */
export const ErrorCode = z.enum([
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "NOT_FOUND",
  "VALIDATION",
  "CONFLICT",
  "FAILED_PRECONDITION",
  "RATE_LIMITED",
  "UNAVAILABLE",
  "INTERNAL",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** HTTP status for each code; the tRPC layer and the SDK both read this table. */
export const httpStatusOf = {
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  FAILED_PRECONDITION: 412,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

/** A field-level problem, as shown next to a form field or in a CLI message. */
export const FieldIssue = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssue>;

export const ErrorData = z.object({
  onaCode: ErrorCode,
  httpStatus: z.number().int(),
  issues: z.array(FieldIssue).optional(),
  retryAfterSeconds: z.number().int().optional(),
});
export type ErrorData = z.infer<typeof ErrorData>;
