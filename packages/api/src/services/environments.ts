import {
  DEFAULT_PAGE_SIZE,
  type CreateEnvironmentInput,
  type DesiredPhase,
  type Environment,
  type EnvironmentClass,
  type EnvironmentPhase,
  type ExecInput,
  type ExecOutput,
  type ListEnvironmentsInput,
  type LogsInput,
  type LogsOutput,
  type Page,
} from "@ona/contracts";
import type { EnvironmentClassRow, EnvironmentRow } from "@ona/db";
import {
  DEFAULT_EXEC_TIMEOUT_SECONDS,
  RepositorySourceRefused,
  RunnerError,
  resolveRepositorySource,
  type RunnerClient,
  type RunnerErrorCode,
} from "@ona/runner";
import type { ErrorCode } from "@ona/contracts";
import type { ServiceDeps } from "../deps";
import { ServiceError, notFound } from "../errors";
import { afterCursor, newestFirst, pageSizeOf, toPage } from "./pagination";
import type { Viewer } from "./viewer";

const RUNNING: EnvironmentPhase = "ENVIRONMENT_PHASE_RUNNING";
const DELETED: EnvironmentPhase = "ENVIRONMENT_PHASE_DELETED";
const DELETING: EnvironmentPhase = "ENVIRONMENT_PHASE_DELETING";
const MAX_LOG_LINES = 5000;

function parseStrings(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

export function toEnvironment(row: EnvironmentRow): Environment {
  return {
    id: row.id,
    metadata: {
      name: row.name,
      creator: { id: row.userId, principal: "user" },
      createdAt: row.createdAt.toISOString(),
      ...(row.lastStartedAt ? { lastStartedAt: row.lastStartedAt.toISOString() } : {}),
      runnerId: row.runnerId,
    },
    spec: {
      desiredPhase: row.desiredPhase as EnvironmentPhase,
      machine: { class: row.classId },
      content: { initializer: { specs: [{ contextUrl: { url: row.contextUrl } }] } },
    },
    status: {
      phase: row.phase as EnvironmentPhase,
      statusVersion: row.statusVersion,
      failureMessage: parseStrings(row.failureMessage),
      warningMessage: parseStrings(row.warningMessage),
    },
  };
}

export function toEnvironmentClass(row: EnvironmentClassRow): EnvironmentClass {
  const configuration = (() => {
    try {
      const value: unknown = JSON.parse(row.configuration);
      return Array.isArray(value)
        ? value.filter(
            (item): item is { key: string; value: string } =>
              typeof item === "object" && item !== null && typeof item.key === "string" && typeof item.value === "string",
          )
        : [];
    } catch {
      return [];
    }
  })();
  return {
    id: row.id,
    runnerId: row.runnerId,
    displayName: row.displayName,
    description: row.description,
    configuration,
    enabled: row.enabled,
  };
}

export async function listEnvironmentClasses(deps: Pick<ServiceDeps, "db">): Promise<Page<EnvironmentClass>> {
  const rows = await deps.db.environmentClass.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }] });
  return { items: rows.map(toEnvironmentClass), nextToken: null };
}

async function resolveClass(deps: Pick<ServiceDeps, "db">, classId: string | undefined) {
  const classes = await deps.db.environmentClass.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }] });
  const enabled = classes.filter((c) => c.enabled);
  const valid = enabled.map((c) => c.id).join(", ") || "none (no runner has registered a class yet)";
  if (classId === undefined) {
    const first = enabled[0];
    if (!first) throw new ServiceError("FAILED_PRECONDITION", "no environment class is available: start a runner first");
    return first;
  }
  const chosen = classes.find((c) => c.id === classId);
  if (!chosen) {
    throw new ServiceError("VALIDATION", `unknown environment class "${classId}": valid classes are ${valid}`, {
      issues: [{ path: "classId", message: `valid classes are ${valid}` }],
    });
  }
  if (!chosen.enabled) {
    throw new ServiceError("VALIDATION", `environment class "${classId}" is disabled: valid classes are ${valid}`, {
      issues: [{ path: "classId", message: `valid classes are ${valid}` }],
    });
  }
  return chosen;
}

/** A repository name for the default environment name: `https://x/org/repo.git` → `repo`. */
export function nameFromContextUrl(url: string): string {
  const cleaned = url.replace(/[#?].*$/, "").replace(/\/+$/, "").replace(/\.git$/, "");
  const last = cleaned.split(/[/:]/).filter(Boolean).pop();
  return (last ?? "environment").slice(0, 80);
}

export async function createEnvironment(
  deps: Pick<ServiceDeps, "db" | "clock" | "config">,
  viewer: Viewer,
  input: CreateEnvironmentInput,
): Promise<Environment> {
  try {
    // Said at once rather than as a failed clone; the runner checks again where it clones.
    resolveRepositorySource(input.contextUrl, deps.config.repositorySources, { resolveLinks: false });
  } catch (error) {
    if (!(error instanceof RepositorySourceRefused)) throw error;
    throw new ServiceError("VALIDATION", error.message, { issues: [{ path: "contextUrl", message: error.message }] });
  }
  const environmentClass = await resolveClass(deps, input.classId);
  const row = await deps.db.environment.create({
    data: {
      userId: viewer.userId,
      name: input.name ?? nameFromContextUrl(input.contextUrl),
      contextUrl: input.contextUrl,
      classId: environmentClass.id,
      runnerId: environmentClass.runnerId,
      desiredPhase: RUNNING,
      specVersion: 1,
      phase: "ENVIRONMENT_PHASE_CREATING",
      createdAt: deps.clock(),
    },
  });
  return toEnvironment(row);
}

/** Another user's environment answers exactly like one that does not exist; admins see all. */
async function visibleEnvironment(deps: Pick<ServiceDeps, "db">, viewer: Viewer, id: string) {
  const row = await deps.db.environment.findFirst({
    where: viewer.role === "admin" ? { id } : { id, userId: viewer.userId },
  });
  if (!row) throw notFound("environment", id);
  return row;
}

export async function getEnvironment(deps: Pick<ServiceDeps, "db">, viewer: Viewer, id: string): Promise<Environment> {
  return toEnvironment(await visibleEnvironment(deps, viewer, id));
}

export async function listEnvironments(
  deps: Pick<ServiceDeps, "db">,
  viewer: Viewer,
  input: ListEnvironmentsInput,
): Promise<Page<Environment>> {
  if (input.allUsers && viewer.role !== "admin") {
    throw new ServiceError("PERMISSION_DENIED", "only administrators can list every user's environments");
  }
  const pageSize = pageSizeOf(input.pageSize ?? DEFAULT_PAGE_SIZE);
  const phases = input.phases && input.phases.length > 0 ? { phase: { in: input.phases } } : { phase: { not: DELETED } };
  const rows = await deps.db.environment.findMany({
    where: { AND: [input.allUsers ? {} : { userId: viewer.userId }, phases, afterCursor(input.nextToken)] },
    orderBy: newestFirst,
    take: pageSize + 1,
  });
  return toPage(rows, pageSize, toEnvironment);
}

/**
 * Records what the user wants; the runner does the rest. Asking for what is already wanted and
 * already reached changes nothing. Asking again after a failed attempt bumps specVersion,
 * which is what tells the runner to try once more.
 */
async function setDesiredPhase(
  deps: Pick<ServiceDeps, "db">,
  viewer: Viewer,
  id: string,
  desired: DesiredPhase,
): Promise<Environment> {
  const row = await visibleEnvironment(deps, viewer, id);
  if (desired !== DELETED && (row.desiredPhase === DELETED || row.phase === DELETING || row.phase === DELETED)) {
    throw new ServiceError("FAILED_PRECONDITION", `environment ${id} is deleted or being deleted; create a new one`);
  }
  const failedAtThisSpec = row.failedSpecVersion !== null && row.failedSpecVersion === row.specVersion;
  if (row.desiredPhase === desired && !failedAtThisSpec) return toEnvironment(row);
  // Conditional on the version read, so concurrent calls bump it once each, never lose one.
  const updated = await deps.db.environment.updateMany({
    where: { id, specVersion: row.specVersion },
    data: { desiredPhase: desired, specVersion: { increment: 1 } },
  });
  if (updated.count === 0) return setDesiredPhase(deps, viewer, id, desired);
  return toEnvironment(await visibleEnvironment(deps, viewer, id));
}

export const startEnvironment = (deps: Pick<ServiceDeps, "db">, viewer: Viewer, id: string) =>
  setDesiredPhase(deps, viewer, id, RUNNING as DesiredPhase);
export const stopEnvironment = (deps: Pick<ServiceDeps, "db">, viewer: Viewer, id: string) =>
  setDesiredPhase(deps, viewer, id, "ENVIRONMENT_PHASE_STOPPED");
export const deleteEnvironment = (deps: Pick<ServiceDeps, "db">, viewer: Viewer, id: string) =>
  setDesiredPhase(deps, viewer, id, DELETED as DesiredPhase);

export async function environmentLogs(
  deps: Pick<ServiceDeps, "db">,
  viewer: Viewer,
  input: LogsInput,
): Promise<LogsOutput> {
  await visibleEnvironment(deps, viewer, input.id);
  const rows = await deps.db.environmentLog.findMany({
    where: { environmentId: input.id, ...(input.since ? { at: { gt: new Date(input.since) } } : {}) },
    orderBy: { id: "desc" },
    take: MAX_LOG_LINES,
  });
  return {
    lines: rows.reverse().map((row) => ({
      at: row.at.toISOString(),
      stream: row.stream === "stdout" || row.stream === "stderr" ? row.stream : "system",
      text: row.text,
    })),
  };
}

export async function execInEnvironment(
  deps: Pick<ServiceDeps, "db">,
  runner: RunnerClient,
  viewer: Viewer,
  input: ExecInput,
): Promise<ExecOutput> {
  const row = await visibleEnvironment(deps, viewer, input.id);
  if (row.phase !== RUNNING || row.desiredPhase !== RUNNING) {
    throw new ServiceError(
      "FAILED_PRECONDITION",
      `environment ${input.id} is not running (phase ${row.phase.replace("ENVIRONMENT_PHASE_", "").toLowerCase()}): start it first`,
    );
  }
  try {
    return await runner.exec({
      environmentId: row.id,
      command: input.command,
      timeoutSeconds: input.timeoutSeconds ?? DEFAULT_EXEC_TIMEOUT_SECONDS,
    });
  } catch (error) {
    if (error instanceof RunnerError) throw new ServiceError(errorCodeOfRunner[error.code], runnerMessage(error));
    throw error;
  }
}

const errorCodeOfRunner = {
  NOT_FOUND: "NOT_FOUND",
  FAILED_PRECONDITION: "FAILED_PRECONDITION",
  INVALID_ARGUMENT: "VALIDATION",
  // The runner refusing the server is the operator's to fix, not the caller's.
  UNAUTHENTICATED: "UNAVAILABLE",
  UNAVAILABLE: "UNAVAILABLE",
  INTERNAL: "INTERNAL",
} as const satisfies Record<RunnerErrorCode, ErrorCode>;

function runnerMessage(error: RunnerError): string {
  return error.code === "UNAUTHENTICATED"
    ? "the runner refused this server's credentials: give the web server and the runner the same ONA_SECRET"
    : error.message;
}
