import type { RepositorySourcePolicy } from "@ona/runner";
import type { Db, DatabaseProvider } from "@ona/db";
import type { Principal } from "@ona/contracts";

/** Injected time, so tests can move the clock past an expiry. */
export type Clock = () => Date;

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What the API needs from the app's configuration; the app validates it and passes it in. */
export interface ApiConfig {
  /** Keys the token HMAC. Never logged. */
  serverSecret: string;
  /** The origin the server is reached at (cookies, CSRF and better-auth's base URL). */
  publicUrl: string;
  /** Other origins allowed to send cookie-authenticated writes. */
  trustedOrigins: string[];
  /**
   * How many proxies the operator controls stand in front of the server (0: none, the client
   * connects directly). The client address is then read from X-Forwarded-For that many hops in.
   */
  trustedProxyHops: number;
  /** Failed authentications allowed per client address in `authFailureWindowSeconds`. */
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  /** Which context URLs environments may be created from (local folders only under the operator's list). */
  repositorySources: RepositorySourcePolicy;
}

export interface ServiceDeps {
  db: Db;
  provider: DatabaseProvider;
  clock: Clock;
  config: ApiConfig;
  logger: Logger;
}

/** Who did something: a user (possibly through a token), the system, or nobody we know. */
export interface Actor {
  userId: string | null;
  principal: Principal;
  tokenId: string | null;
}

export interface RequestInfo {
  ip: string | null;
  userAgent: string | null;
}

export const SYSTEM_ACTOR: Actor = { userId: null, principal: "system", tokenId: null };
export const NO_REQUEST: RequestInfo = { ip: null, userAgent: null };

/** A JSON-lines logger on stderr; fields must never carry secrets (callers pass ids only). */
export const consoleLogger: Logger = {
  info: (message, fields) => console.error(JSON.stringify({ level: "info", message, ...fields })),
  warn: (message, fields) => console.error(JSON.stringify({ level: "warn", message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: "error", message, ...fields })),
};
