import type { ErrorCode } from "@ona/contracts";
import { EnvironmentFailedError, OnaError, WaitTimeoutError } from "@ona/sdk";

/** The process exit codes, documented in the README. */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  AUTH: 4,
  NOT_FOUND: 5,
  TIMEOUT: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one mapping from the API's error codes to exit codes. An input the server refuses is a
 * usage error, like an argument the CLI refuses itself.
 */
export const exitCodeOf = {
  UNAUTHENTICATED: ExitCode.AUTH,
  PERMISSION_DENIED: ExitCode.AUTH,
  NOT_FOUND: ExitCode.NOT_FOUND,
  VALIDATION: ExitCode.USAGE,
  CONFLICT: ExitCode.ERROR,
  FAILED_PRECONDITION: ExitCode.ERROR,
  RATE_LIMITED: ExitCode.ERROR,
  UNAVAILABLE: ExitCode.ERROR,
  INTERNAL: ExitCode.ERROR,
} as const satisfies Record<ErrorCode, ExitCode>;

/** An error the CLI raises itself: what happened, and what to do about it. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.ERROR,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** What the CLI knows when an error is reported, to say what to do next. */
export interface ErrorContext {
  host: string | undefined;
  /** Where the token came from: "--token", "ONA_TOKEN" or the stored credentials. */
  tokenSource: string | undefined;
  /** What to run to find the right id, for not-found errors ("ona environment list"). */
  listCommand?: string;
}

export function tokenPage(host: string | undefined): string {
  return host ? `${host}/settings/personal-access-tokens` : "Settings → Personal access tokens";
}

/** What to do next, per error code: exhaustive, so a new code must say what the user does. */
const hintOf = {
  UNAUTHENTICATED: (context) =>
    context.tokenSource === "ONA_TOKEN"
      ? `set ONA_TOKEN to a valid personal access token (create one at ${tokenPage(context.host)})`
      : context.tokenSource === "--token"
        ? `pass a valid personal access token with --token (create one at ${tokenPage(context.host)})`
        : `run ona login --token <token> with a valid personal access token (create one at ${tokenPage(context.host)})`,
  PERMISSION_DENIED: (context, error) =>
    /read-only/.test(error.message)
      ? `create a read & write token at ${tokenPage(context.host)}, then run ona login --token <token>`
      : undefined,
  NOT_FOUND: (context) => (context.listCommand ? `${context.listCommand} shows the ids you can use` : undefined),
  VALIDATION: () => undefined,
  CONFLICT: () => undefined,
  FAILED_PRECONDITION: () => undefined,
  RATE_LIMITED: (_context, error) => (error.retryAfterSeconds !== undefined ? `try again in ${error.retryAfterSeconds} s` : "try again later"),
  UNAVAILABLE: (context, error) =>
    error.message.startsWith("could not reach")
      ? "start the server (pnpm start), or point --host or ONA_HOST at the right one"
      : context.host
        ? `check that ${context.host} is an Ona server (--host, ONA_HOST), or try again later`
        : undefined,
  INTERNAL: () => undefined,
} satisfies Record<ErrorCode, (context: ErrorContext, error: OnaError) => string | undefined>;

export interface DescribedError {
  message: string;
  hint: string | undefined;
  exitCode: ExitCode;
}

/** Turns anything a command threw into the message, hint and exit code the user gets. */
export function describeError(error: unknown, context: ErrorContext): DescribedError {
  if (error instanceof CliError) return { message: error.message, hint: error.hint, exitCode: error.exitCode };
  if (error instanceof OnaError) {
    const issues = error.issues
      .filter((issue) => !error.message.includes(issue.message))
      .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
    return {
      message: issues.length > 0 ? `${error.message} (${issues.join("; ")})` : error.message,
      hint: hintOf[error.code](context, error),
      exitCode: exitCodeOf[error.code],
    };
  }
  if (error instanceof WaitTimeoutError) {
    const id = error.environment?.id ?? "<id>";
    return {
      message: error.message,
      hint: `it carries on on the server: ona environment get ${id} shows where it is; wait longer with --timeout`,
      exitCode: ExitCode.TIMEOUT,
    };
  }
  if (error instanceof EnvironmentFailedError) {
    const id = error.environment.id;
    const own = error.failureMessage.length > 0 && error.message === error.failureMessage.join("; ");
    return {
      message: own ? `environment ${id} failed: ${error.message}` : error.message,
      hint: `ona environment logs ${id} shows what happened`,
      exitCode: ExitCode.ERROR,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: `unexpected error: ${message}`, hint: "run again with --verbose for details", exitCode: ExitCode.ERROR };
}

/** The error, its hint and (with --verbose) its stack and causes, as written to stderr. */
export function formatError(error: unknown, described: DescribedError, verbose: boolean): string {
  const lines = [`error: ${described.message}`];
  if (described.hint) lines.push(`  → ${described.hint}`);
  if (verbose) {
    let current: unknown = error;
    for (let depth = 0; depth < 6 && current; depth++) {
      if (current instanceof Error) {
        lines.push(depth === 0 ? (current.stack ?? String(current)) : `caused by: ${current.stack ?? String(current)}`);
        current = current.cause;
      } else {
        lines.push(`caused by: ${String(current)}`);
        current = undefined;
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
