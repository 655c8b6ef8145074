import { TRPCClientError } from "@trpc/client";
import type { ErrorCode, FieldIssue } from "@ona/contracts";
import type { AppRouter } from "./trpc";

export type ProblemKind = ErrorCode | "OFFLINE";

/** What a page shows when a call fails: what happened, and what the user can do about it. */
export interface Problem {
  kind: ProblemKind;
  title: string;
  message: string;
  issues: FieldIssue[];
  /** Whether trying again can help (a reload, a retry button). */
  retryable: boolean;
}

function isApiError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError;
}

/** Turns anything a call threw into words for the user; the API's own messages are written for users. */
export function describeProblem(error: unknown): Problem {
  if (isApiError(error) && error.data) {
    const data = error.data;
    const issues = data.issues ?? [];
    const code = data.onaCode;
    switch (code) {
      case "UNAUTHENTICATED":
        return { kind: code, title: "You are signed out", message: "Your session has ended. Sign in again to continue.", issues, retryable: false };
      case "PERMISSION_DENIED":
        return { kind: code, title: "Not allowed", message: error.message, issues, retryable: false };
      case "NOT_FOUND":
        return { kind: code, title: "Not found", message: error.message, issues, retryable: false };
      case "VALIDATION":
        return { kind: code, title: "Check the form", message: error.message, issues, retryable: false };
      case "CONFLICT":
      case "FAILED_PRECONDITION":
        return { kind: code, title: "That cannot be done now", message: error.message, issues, retryable: false };
      case "RATE_LIMITED":
        return {
          kind: code,
          title: "Too many attempts",
          message: data.retryAfterSeconds ? `Wait ${data.retryAfterSeconds} seconds, then try again.` : error.message,
          issues,
          retryable: true,
        };
      case "UNAVAILABLE":
        return { kind: code, title: "Ona is not available right now", message: `${error.message}. Try again in a moment.`, issues, retryable: true };
      case "INTERNAL":
        return {
          kind: code,
          title: "Something went wrong on the server",
          message: "The server logged the details. Try again; if it keeps failing, ask your administrator to check the server log.",
          issues,
          retryable: true,
        };
    }
  }
  return {
    kind: "OFFLINE",
    title: "Cannot reach the Ona server",
    message: "The server did not answer. Check that Ona is running (pnpm start) and that you are online, then try again.",
    issues: [],
    retryable: true,
  };
}

/** Field errors keyed by the first segment of each issue's path (`description`, `expiresInDays`, …). */
export function fieldErrorsOf(issues: readonly { path: string | readonly PropertyKey[]; message: string }[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const key = typeof issue.path === "string" ? (issue.path.split(".")[0] ?? "") : String(issue.path[0] ?? "");
    errors[key] ??= issue.message.charAt(0).toUpperCase() + issue.message.slice(1) + (/[.!?]$/.test(issue.message) ? "" : ".");
  }
  return errors;
}

/** Whether a failed query should be retried: only when the server could not be reached or failed. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 2) return false;
  const problem = describeProblem(error);
  return problem.kind === "OFFLINE" || problem.kind === "UNAVAILABLE" || problem.kind === "INTERNAL";
}
