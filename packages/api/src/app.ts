import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "better-auth/node";
import type { Database, Db } from "@ona/db";
import { parseIsolationReport, type RunnerClient } from "@ona/runner";
import { createAuth, type Auth } from "./auth";
import { createContextFactory } from "./context";
import { consoleLogger, type ApiConfig, type Clock, type Logger, type ServiceDeps } from "./deps";
import { createApiListener } from "./http";
import { setClientAddressHeader } from "./request-origin";
import { createAuthFailureLimiter } from "./services/auth-failure-limiter";

export interface OnaApiOptions {
  database: Database;
  config: ApiConfig;
  runner: RunnerClient;
  clock?: Clock;
  logger?: Logger;
}

export interface OnaApi {
  deps: ServiceDeps;
  auth: Auth;
  /** Serves /api/trpc/* and /api/health; resolves false for anything else. */
  handleApi(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** better-auth's own routes under /api/auth/* as a node handler (tests and tools). */
  handleAuth(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * Call on every request passed on to another handler that may reach better-auth (Next's): sets
   * the client address header better-auth counts sign-in attempts by, replacing any client's.
   */
  setClientAddressHeader(req: IncomingMessage): void;
  close(): Promise<void>;
}

/** Wires the API's parts together; the web server and the tests both start it this way. */
export async function createOnaApi(options: OnaApiOptions): Promise<OnaApi> {
  const { database, config } = options;
  const deps: ServiceDeps = {
    db: database.db,
    provider: database.provider,
    clock: options.clock ?? (() => new Date()),
    config,
    logger: options.logger ?? consoleLogger,
  };
  const auth = createAuth(database.db, database.provider, config);
  const limiter = await createAuthFailureLimiter({
    provider: database.provider,
    databaseUrl: database.url,
    points: config.authFailureLimit,
    durationSeconds: config.authFailureWindowSeconds,
  });
  const createContext = createContextFactory({ deps, services: { runner: options.runner }, auth, limiter });
  const handleApi = createApiListener({
    createContext,
    health: () => healthReport(database.db),
    onInternalError: (path, error) => {
      const cause = error.cause;
      deps.logger.error("internal error", {
        path,
        error: cause instanceof Error ? `${cause.name}: ${cause.message}` : error.message,
      });
    },
  });
  const authNodeHandler = toNodeHandler(auth);
  return {
    deps,
    auth,
    handleApi,
    handleAuth: (req, res) => {
      setClientAddressHeader(req, config.trustedProxyHops);
      return authNodeHandler(req, res);
    },
    setClientAddressHeader: (req) => setClientAddressHeader(req, config.trustedProxyHops),
    close: () => limiter.close(),
  };
}

/**
 * `GET /api/health`: the database answers, and how each runner isolates environments. A runner
 * in single-user mode (no sandbox) or one that cannot run environments at all is named here,
 * so that a monitor, and an administrator, sees it without reading the runner's log.
 */
async function healthReport(db: Db): Promise<Record<string, unknown>> {
  const runners = await db.runner.findMany({ select: { id: true, isolation: true }, orderBy: { id: "asc" } });
  return {
    status: "ok",
    runners: runners.map((runner) => {
      const report = parseIsolationReport(runner.isolation);
      return { id: runner.id, isolation: report.mode, ...(report.problem === null ? {} : { problem: report.problem }) };
    }),
  };
}
