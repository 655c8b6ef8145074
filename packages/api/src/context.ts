import type { IncomingMessage } from "node:http";
import { fromNodeHeaders } from "better-auth/node";
import type { UserRole } from "@ona/contracts";
import type { Auth } from "./auth";
import type { Actor, ApiConfig, RequestInfo, ServiceDeps } from "./deps";
import { ServiceError } from "./errors";
import { writeAudit } from "./services/audit";
import type { AuthFailureLimiter } from "./services/auth-failure-limiter";
import { authenticateToken, describeTokenFailure, isWellFormedToken, recordTokenUse, type TokenAuthFailure } from "./services/tokens";
import { clientAddressOf, hasAllowedOrigin, originOf } from "./request-origin";
import type { Viewer } from "./services/viewer";
import type { AppServices } from "./app-services";

/** How the caller proved who they are, or why they could not. */
export type Authentication =
  | { kind: "anonymous" }
  | { kind: "session"; viewer: Viewer }
  | { kind: "token"; viewer: Viewer }
  /**
   * Credentials were presented and refused; every procedure answers with this error.
   * `beforeLookup`: refused before anything was read (a malformed header or token, or an address
   * over its failure limit). Such refusals are counted and logged, never written to the database,
   * so a flood of garbage costs it nothing; audited procedures do not write them either.
   */
  | { kind: "refused"; error: ServiceError; beforeLookup: boolean };

export interface Context {
  deps: ServiceDeps;
  services: AppServices;
  request: RequestInfo;
  authentication: Authentication;
  /** Whether the request's Origin is ONA_PUBLIC_URL's or a trusted one (CSRF check for cookie-authenticated writes). */
  sameOrigin: boolean;
}

export interface ContextFactoryOptions {
  deps: ServiceDeps;
  services: AppServices;
  auth: Auth;
  limiter: AuthFailureLimiter;
}

const BEARER = /^Bearer +([^\s]+)$/i;

function viewerOfUser(user: { id: string; email: string; name: string; role: string }): Omit<Viewer, "token"> {
  return { userId: user.id, email: user.email, name: user.name, role: user.role === "admin" ? "admin" : "member" };
}

function rateLimited(retryAfterSeconds: number): Authentication {
  return {
    kind: "refused",
    beforeLookup: true,
    error: new ServiceError("RATE_LIMITED", `too many failed authentication attempts: retry in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    }),
  };
}

async function authenticateBearer(
  options: ContextFactoryOptions,
  header: string,
  request: RequestInfo,
): Promise<Authentication> {
  const { deps, limiter } = options;
  const address = request.ip ?? "unknown";
  // An address over its limit in this process is refused before anything is read.
  const localWait = await limiter.retryAfter(address, { includeShared: false });
  if (localWait !== null) return rateLimited(localWait);

  /** Refused before any lookup: counted in this process and logged, never written to the database. */
  const refuseUnread = async (error: ServiceError, reason: string): Promise<Authentication> => {
    await limiter.recordFailure(address, { shared: false });
    deps.logger.warn("refused credentials before the token lookup", { reason, ip: request.ip, userAgent: request.userAgent });
    return { kind: "refused", error, beforeLookup: true };
  };
  /** Refused after the lookup: counted everywhere and audited. */
  const refuseLookedUp = async (error: ServiceError, actor: Actor, reason: string): Promise<Authentication> => {
    await limiter.recordFailure(address, { shared: true });
    await writeAudit(deps, {
      actor,
      action: "auth.token",
      subjectType: "auth",
      subjectId: actor.tokenId,
      outcome: "denied",
      reason,
      request,
    });
    return { kind: "refused", error, beforeLookup: false };
  };
  const invalidToken = (result: TokenAuthFailure) =>
    new ServiceError("UNAUTHENTICATED", describeTokenFailure(result), { challenge: "invalid_token" });

  const match = BEARER.exec(header);
  if (!match?.[1]) {
    if (!/^Bearer\b/i.test(header)) {
      // Another scheme (Basic, …): answer as if no credentials came, with the Bearer challenge.
      return refuseUnread(
        new ServiceError("UNAUTHENTICATED", "authentication required: send Authorization: Bearer <personal access token>", {
          challenge: "missing",
        }),
        "unsupported authorization scheme",
      );
    }
    return refuseUnread(
      new ServiceError("VALIDATION", 'malformed Authorization header: send exactly "Bearer <personal access token>"', {
        challenge: "invalid_request",
      }),
      "malformed authorization header",
    );
  }
  const presented = match[1];
  // The format and checksum check needs no database: a mistyped or made-up token stops here.
  if (!isWellFormedToken(presented)) {
    return refuseUnread(invalidToken({ reason: "malformed", tokenId: null }), "malformed token");
  }
  // Failures on other servers count too (a read of the shared count, only for addresses that failed here).
  const sharedWait = await limiter.retryAfter(address, { includeShared: true });
  if (sharedWait !== null) return rateLimited(sharedWait);

  const result = await authenticateToken(deps, presented);
  if (!result.ok && result.reason === "malformed") return refuseUnread(invalidToken(result), "malformed token");
  if (!result.ok) {
    const actor: Actor = result.tokenId
      ? { userId: result.userId, principal: "user", tokenId: result.tokenId }
      : { userId: null, principal: "anonymous", tokenId: null };
    return refuseLookedUp(invalidToken(result), actor, `token ${result.reason}`);
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

/** The origins cookie-authenticated changes may come from: ONA_PUBLIC_URL's and the trusted ones, as bare origins. */
export function allowedOriginsOf(config: Pick<ApiConfig, "publicUrl" | "trustedOrigins">): string[] {
  return [config.publicUrl, ...config.trustedOrigins].flatMap((url) => originOf(url) ?? []);
}

export function createContextFactory(options: ContextFactoryOptions) {
  const { config } = options.deps;
  const allowedOrigins = allowedOriginsOf(config);
  return async ({ req }: { req: IncomingMessage }): Promise<Context> => {
    const request: RequestInfo = {
      ip: clientAddressOf(req, config.trustedProxyHops),
      userAgent: req.headers["user-agent"] ?? null,
    };
    const base = {
      deps: options.deps,
      services: options.services,
      request,
      sameOrigin: hasAllowedOrigin(req, allowedOrigins),
    };
    const authorization = req.headersDistinct.authorization ?? [];
    if (authorization.length > 1) {
      return {
        ...base,
        authentication: {
          kind: "refused",
          beforeLookup: true,
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
