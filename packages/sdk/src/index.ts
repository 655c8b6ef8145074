export { createClient, normalizeHost, resolveClientOptions, toOnaError, DEFAULT_HOST, API_PATH } from "./client";
export type { ClientOptions, OnaClient } from "./client";
export {
  OnaError,
  AuthenticationError,
  PermissionError,
  NotFoundError,
  ValidationError,
  ConflictError,
  PreconditionError,
  RateLimitedError,
  UnavailableError,
  InternalError,
  EnvironmentFailedError,
  WaitTimeoutError,
  errorClassOf,
  onaError,
  formatDuration,
} from "./errors";
export type { OnaErrorInit } from "./errors";
export { waitForEnvironment, DEFAULT_WAIT_TIMEOUT_MS } from "./wait";
export type { WaitOptions, EnvironmentReader } from "./wait";
export type {
  Environment,
  EnvironmentPhase,
  EnvironmentClass,
  PersonalAccessToken,
  AuditLogEntry,
  WhoAmI,
  ErrorCode,
  ExecOutput,
  LogLine,
  CreateEnvironmentInput,
  ListEnvironmentsInput,
  ListTokensInput,
  ListAuditLogInput,
} from "@ona/contracts";
