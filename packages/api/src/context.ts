import type { IncomingMessage } from "node:http";
import { fromNodeHeaders } from "better-auth/node";
import type { UserRole } from "@ona/contracts";
import type { Auth } from "./auth";
import type { Actor, RequestInfo, ServiceDeps } from "./deps";
import { ServiceError } from "./errors";
import { writeAudit } from "./services/audit";
import type { AuthFailureLimiter } from "./services/auth-failure-limiter";
import { authenticateToken, describeTokenFailure, recordTokenUse } from "./services/tokens";
import type { Viewer } from "./services/viewer";
import type { AppServices } from "./app-services";

/** How the caller proved who they are, or why they could not. */
export type Authentication =
  | { kind: "anonymous" }
  | { kind: "session"; viewer: Viewer }
  | { kind: "token"; viewer: Viewer }
  /** Credentials were presented and refused; every procedure but public ones answers with this error. */
  | { kind: "refused"; error: ServiceError };

export interface Context {
  deps: ServiceDeps;
  services: AppServices;
  request: RequestInfo;
  authentication: Authentication;
  /** Whether the request's Origin is this server's own (CSRF check for cookie-authenticated writes). */
  sameOrigin: boolean;
}

export interface ContextFactoryOptions {
  deps: ServiceDeps;
  services: AppServices;
  auth: Auth;
  limiter: AuthFailureLimiter;
}

const BEARER = /^Bearer +([^\s]+)$/i;

export function clientAddressOf(req: IncomingMessage, trustProxy: boolean): string | null {
  const forwarded = trustProxy ? req.headers["x-forwarded-for"] : undefined;
  const raw = (typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined) ?? req.socket.remoteAddress;
  if (!raw) return null;
  return raw.startsWith("::ffff:") ? raw.slice("::ffff:".length) : raw;
}

function isSameOrigin(req: IncomingMessage, trustedOrigins: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  if (trustedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function viewerOfUser(user: { id: string; email: string; name: string; role: string }): Omit<Viewer, "token"> {
  return { userId: user.id, email: user.email, name: user.name, role: user.role === "admin" ? "admin" : "member" };
}

async function authenticateBearer(
  options: ContextFactoryOptions,
  header: string,
  request: RequestInfo,
): Promise<Authentication> {
  const { deps, limiter } = options;
  const address = request.ip ?? "unknown";
  const retryAfterSeconds = await limiter.retryAfter(address);
  if (retryAfterSeconds !== null) {
    return {
      kind: "refused",
      error: new ServiceError("RATE_LIMITED", `too many failed authentication attempts: retry in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      }),
    };
  }
  const refuse = async (error: ServiceError, actor: Actor, reason: string): Promise<Authentication> => {
    await limiter.recordFailure(address);
    await writeAudit(deps, {
      actor,
      action: "auth.token",
      subjectType: "auth",
      subjectId: actor.tokenId,
      outcome: "denied",
      reason,
      request,
    });
    return { kind: "refused", error };
  };
  const anonymous: Actor = { userId: null, principal: "anonymous", tokenId: null };

  const match = BEARER.exec(header);
  if (!match?.[1]) {
    if (!/^Bearer\b/i.test(header)) {
      // Another scheme (Basic, …): answer as if no credentials came, with the Bearer challenge.
      return refuse(
        new ServiceError("UNAUTHENTICATED", "authentication required: send Authorization: Bearer <personal access token>", {
          challenge: "missing",
        }),
        anonymous,
        "unsupported authorization scheme",
      );
    }
    return refuse(
      new ServiceError("VALIDATION", "malformed Authorization header: send exactly \"Bearer <personal access token>\"", {
        challenge: "invalid_request",
      }),
      anonymous,
      "malformed authorization header",
    );
  }
  const result = await authenticateToken(deps, match[1]);
  if (!result.ok && result.reason === "malformed") {
    // Caught by the format and checksum check: no lookup and no audit row, so garbage costs the
    // database nothing; the failure still counts against the address and is logged.
    await limiter.recordFailure(address);
    deps.logger.warn("refused a malformed token", { ip: request.ip, userAgent: request.userAgent });
    return {
      kind: "refused",
      error: new ServiceError("UNAUTHENTICATED", describeTokenFailure(result), { challenge: "invalid_token" }),
    };
  }
  if (!result.ok) {
    const actor: Actor = result.tokenId
      ? { userId: result.userId, principal: "user", tokenId: result.tokenId }
      : anonymous;
    return refuse(
      new ServiceError("UNAUTHENTICATED", describeTokenFailure(result), { challenge: "invalid_token" }),
      actor,
      `token ${result.reason}`,
    );
  }
  // The last-used stamp must not slow the request down or fail it.
  recordTokenUse(deps, result.token, request.ip).catch((error: unknown) =>
    deps.logger.warn("could not record token use", { tokenId: result.token.id, error: String(error) }),
  );
  return {
    kind: "token",
    viewer: {
      ...viewerOfUser(result.user),
      token: {
        id: result.token.id,
        description: result.token.description,
        accessLevel: result.token.accessLevel === "read-write" ? "read-write" : "read-only",
        expiresAt: result.token.expiresAt,
      },
    },
  };
}

async function authenticateSession(options: ContextFactoryOptions, req: IncomingMessage): Promise<Authentication> {
  const session = await options.auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
  if (!session) return { kind: "anonymous" };
  const user = session.user as typeof session.user & { role?: string; active?: boolean };
  if (user.active === false) return { kind: "anonymous" };
  return { kind: "session", viewer: { ...viewerOfUser({ ...user, role: user.role ?? "member" }), token: null } };
}

export function createContextFactory(options: ContextFactoryOptions) {
  return async ({ req }: { req: IncomingMessage }): Promise<Context> => {
    const request: RequestInfo = {
      ip: clientAddressOf(req, options.deps.config.trustProxy),
      userAgent: req.headers["user-agent"] ?? null,
    };
    const base = {
      deps: options.deps,
      services: options.services,
      request,
      sameOrigin: isSameOrigin(req, [options.deps.config.publicUrl, ...options.deps.config.trustedOrigins]),
    };
    const authorization = req.headersDistinct.authorization ?? [];
    if (authorization.length > 1) {
      return {
        ...base,
        authentication: {
          kind: "refused",
          error: new ServiceError("VALIDATION", "send one Authorization header, not several", {
            challenge: "invalid_request",
          }),
        },
      };
    }
    const header = authorization[0];
    if (header !== undefined) return { ...base, authentication: await authenticateBearer(options, header, request) };
    if (req.headers.cookie) return { ...base, authentication: await authenticateSession(options, req) };
    return { ...base, authentication: { kind: "anonymous" } };
  };
}

export type { UserRole };
