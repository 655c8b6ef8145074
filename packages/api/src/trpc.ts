import { initTRPC, type TRPCError } from "@trpc/server";
import { Id, type AuditAction, type AuditSubjectType, type ErrorData } from "@ona/contracts";
import type { Context } from "./context";
import { ServiceError, httpStatusOf, onaCodeOf, serviceErrorOf, toTrpcError } from "./errors";
import { writeAudit } from "./services/audit";
import type { Viewer } from "./services/viewer";

/**
 * Every procedure declares what it needs:
 * - `access`: "read" (any valid session or token), "write" (a session,
 *   or a read & write token). A test walks the router and fails on a procedure without it.
 * - `sessionOnly`: only a signed-in browser session may call it (a token cannot mint tokens).
 * - `adminOnly`: only admins, whatever the credentials.
 * - `audit`: the action written to the audit log for every attempt, successful or not.
 */
export interface Meta {
  access: "read" | "write";
  sessionOnly?: boolean;
  adminOnly?: boolean;
  audit?: { action: AuditAction; subjectType: AuditSubjectType };
}

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}

function validationIssuesOf(error: TRPCError) {
  const cause: unknown = error.cause;
  if (cause && typeof cause === "object" && "issues" in cause && Array.isArray(cause.issues)) {
    return (cause.issues as ZodLikeIssue[]).map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    }));
  }
  return undefined;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error }) {
      const onaCode = onaCodeOf(error);
      const service = serviceErrorOf(error);
      const issues = service?.issues ?? validationIssuesOf(error);
      let message = error.message;
      if (onaCode === "INTERNAL") message = "internal error: the server logged the details; try again";
      else if (issues && !service) message = `invalid input: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`;
      const data: ErrorData & { code: string; path?: string } = {
        code: shape.data.code,
        // Our own errors take the status of their code; tRPC's own (405, 413, 415 …) keep theirs.
        httpStatus: service || onaCode === "INTERNAL" ? httpStatusOf[onaCode] : shape.data.httpStatus,
        onaCode,
        ...(shape.data.path ? { path: shape.data.path } : {}),
        ...(issues ? { issues } : {}),
        ...(service?.retryAfterSeconds !== undefined ? { retryAfterSeconds: service.retryAfterSeconds } : {}),
      };
      return { message, code: shape.code, data };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Outermost: services throw ServiceError; tRPC needs its own error type to pick the status. */
const mapServiceErrors = t.middleware(async ({ next, ctx, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof ServiceError) throw toTrpcError(cause);
    if (result.error.code === "INTERNAL_SERVER_ERROR") {
      ctx.deps.logger.error("procedure failed", { path, error: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) });
    }
  }
  return result;
});

function subjectIdOf(input: unknown, output: unknown): string | null {
  for (const candidate of [output, input]) {
    if (candidate && typeof candidate === "object") {
      const record = candidate as Record<string, unknown>;
      for (const nested of [record.environment, record.token, record]) {
        // The raw input is untrusted: only an id the contract accepts goes into the audit row.
        const id = nested && typeof nested === "object" ? Id.safeParse((nested as { id?: unknown }).id) : null;
        if (id?.success) return id.data;
      }
    }
  }
  return null;
}

/** Writes one audit entry per attempt of an audited procedure, whatever its outcome. */
const auditAttempts = t.middleware(async ({ meta, ctx, next, getRawInput }) => {
  if (!meta?.audit) return next();
  // Refused before anything was read: counted and logged, never written (see Authentication).
  if (ctx.authentication.kind === "refused" && ctx.authentication.beforeLookup) return next();
  const result = await next();
  const viewer = "viewer" in ctx.authentication ? ctx.authentication.viewer : null;
  let rawInput: unknown = null;
  try {
    rawInput = await getRawInput();
  } catch {
    rawInput = null;
  }
  const onaCode = result.ok ? null : onaCodeOf(result.error);
  await writeAudit(ctx.deps, {
    actor: viewer
      ? { userId: viewer.userId, principal: "user", tokenId: viewer.token?.id ?? null }
      : { userId: null, principal: "anonymous", tokenId: null },
    action: meta.audit.action,
    subjectType: meta.audit.subjectType,
    subjectId: subjectIdOf(rawInput, result.ok ? result.data : null),
    outcome: result.ok
      ? "success"
      : onaCode === "PERMISSION_DENIED" || onaCode === "UNAUTHENTICATED" || onaCode === "RATE_LIMITED"
        ? "denied"
        : "failed",
    reason: result.ok ? null : onaCode === "INTERNAL" ? "internal error" : result.error.message,
    request: ctx.request,
  });
  return result;
});

/**
 * Applies a read or write procedure's declared access to the caller's credentials and returns the
 * viewer it acts for. (A plain function, called by the procedures' one access middleware: each tRPC
 * middleware layer copies the context, and this runs on every request.)
 */
function viewerAllowedBy(meta: Meta | undefined, ctx: Context): Viewer {
  if (!meta) throw new ServiceError("INTERNAL", "procedure declares no access");
  const authentication = ctx.authentication;
  if (authentication.kind === "refused") throw authentication.error;
  if (authentication.kind === "anonymous") {
    throw new ServiceError(
      "UNAUTHENTICATED",
      "authentication required: sign in, or send Authorization: Bearer <personal access token>",
      { challenge: "missing" },
    );
  }
  const viewer = authentication.viewer;
  if (meta.sessionOnly && authentication.kind !== "session") {
    throw new ServiceError(
      "PERMISSION_DENIED",
      "this needs a signed-in browser session: personal access tokens cannot do it (create tokens in Settings → Personal access tokens)",
    );
  }
  if (meta.access === "write") {
    if (authentication.kind === "token" && viewer.token?.accessLevel !== "read-write") {
      throw new ServiceError(
        "PERMISSION_DENIED",
        "the token is read-only: create a read & write token to make changes",
        { challenge: "insufficient_scope" },
      );
    }
    if (authentication.kind === "session" && !ctx.sameOrigin) {
      throw new ServiceError(
        "PERMISSION_DENIED",
        "cross-site request refused: cookie-authenticated changes need this server's Origin header (scripts should use a personal access token)",
      );
    }
  }
  if (meta.adminOnly && viewer.role !== "admin") {
    throw new ServiceError("PERMISSION_DENIED", "only administrators can do this");
  }
  return viewer;
}

const procedure = t.procedure.use(mapServiceErrors).use(auditAttempts);
const enforceAccess = t.middleware(({ meta, ctx, next }) => next({ ctx: { viewer: viewerAllowedBy(meta, ctx) } }));

export const readProcedure = procedure.meta({ access: "read" }).use(enforceAccess);
export const writeProcedure = (audit: Meta["audit"], extra: Pick<Meta, "sessionOnly" | "adminOnly"> = {}) =>
  procedure.meta({ access: "write", audit, ...extra }).use(enforceAccess);
