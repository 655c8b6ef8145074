import { createServer, type Server } from "node:http";
import { closeSync, mkdtempSync, openSync, readSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { createOnaApi, type ApiConfig, type Logger, type OnaApi } from "@ona/api";
import { openDatabase, type Database } from "@ona/db";
import type { TestDatabases } from "@ona/db/testing";
import { createLocalRunner, type LocalRunner } from "@ona/runner";
import { createTestClock, type TestClock } from "./clock";
import { TEST_REPOSITORIES, removeDataDir } from "./repositories";

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** One SQL statement a database received, with its parameters as the client sent them. */
export interface Statement {
  sql: string;
  params: string;
}

export interface TestServer {
  url: string;
  api: OnaApi;
  database: Database;
  clock: TestClock;
  runner: LocalRunner | null;
  dataDir: string;
  /** Every line the server logged, for the no-secret-in-logs checks. */
  logs: LogLine[];
  /** Every SQL statement sent so far through the server's Prisma client and hot path (clear it with `queries.length = 0`). */
  queries: string[];
  /**
   * Every statement the database received from any client while `action` ran. On SQLite every
   * client is in this process (Prisma and the hot path); on PostgreSQL the server's own statement
   * log is read, so libraries' own connections (the rate-limit store's pool) count too. Needs
   * `startTestDatabases(provider, { logStatements: true })` on PostgreSQL.
   */
  statementsDuring<T>(action: () => Promise<T>): Promise<{ result: T; statements: Statement[] }>;
  /** The database URL (a SQLite file or a PostgreSQL database). */
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  databases: TestDatabases;
  config?: Partial<ApiConfig>;
  runner?: boolean;
  /** The address to listen on, and the one in `url` (default 127.0.0.1). */
  address?: string;
}

/**
 * The API exactly as the web server serves it (the same listener on a real port, a real
 * database), with better-auth's routes mounted next to it, and a clock the test controls.
 */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const fresh = await options.databases.fresh();
  const queries: string[] = [];
  const sent: Statement[] = [];
  const database = await openDatabase(fresh.url, {
    onQuery: (sql, params) => {
      queries.push(sql);
      sent.push({ sql, params });
    },
  });
  const postgres = options.databases.server;
  const statementsDuring = async <T>(action: () => Promise<T>) => {
    if (postgres === undefined) {
      const start = sent.length;
      const result = await action();
      return { result, statements: sent.slice(start) };
    }
    if (!postgres.logsStatements) throw new Error("counting PostgreSQL statements needs startTestDatabases(provider, { logStatements: true })");
    const start = statSync(postgres.logFile).size;
    const result = await action();
    return { result, statements: loggedStatements(postgres.logFile, start, decodeURIComponent(new URL(fresh.url).pathname.slice(1))) };
  };
  const clock = createTestClock();
  const logs: LogLine[] = [];
  const logger: Logger = {
    info: (message, fields) => logs.push({ level: "info", message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => logs.push({ level: "warn", message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => logs.push({ level: "error", message, ...(fields ? { fields } : {}) }),
  };
  const dataDir = mkdtempSync(join(tmpdir(), "ona-test-"));
  const runner =
    options.runner === false
      ? null
      : createLocalRunner({
          db: database.db,
          environmentsDir: join(dataDir, "environments"),
          clock: clock.now,
          logger,
          pollIntervalMs: 50,
          localRepositories: [TEST_REPOSITORIES],
          protectedDirs: [dataDir],
        });
  await runner?.start();

  let server: Server | undefined;
  const apiPromise = (async () => {
    server = createServer();
    const address = options.address ?? "127.0.0.1";
    await new Promise<void>((resolve) => server?.listen(0, address, resolve));
    const port = (server.address() as AddressInfo).port;
    const url = `http://${address}:${port}`;
    const config: ApiConfig = {
      serverSecret: "test-server-secret-0123456789abcdef0123456789abcdef",
      publicUrl: url,
      trustedOrigins: [],
      trustedProxyHops: 0,
      authFailureLimit: 30,
      authFailureWindowSeconds: 300,
      repositorySources: { localRepositories: [TEST_REPOSITORIES], forbidden: [dataDir] },
      ...options.config,
    };
    const api = await createOnaApi({
      database,
      config,
      clock: clock.now,
      logger,
      runner: runner ?? {
        exec: () => Promise.reject(new Error("this test server runs no runner")),
      },
    });
    server.on("request", (req, res) => {
      void api.handleApi(req, res).then(async (handled) => {
        if (handled) return;
        if (req.url?.startsWith("/api/auth/")) return api.handleAuth(req, res);
        res.writeHead(404).end();
      });
    });
    return { api, url };
  })();
  const { api, url } = await apiPromise;

  return {
    url,
    api,
    database,
    clock,
    runner,
    dataDir,
    logs,
    queries,
    statementsDuring,
    databaseUrl: fresh.url,
    async close() {
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server?.closeAllConnections();
      await closed;
      await runner?.stop();
      await api.close();
      await database.close();
      await fresh.drop();
      await removeDataDir(dataDir);
    },
  };
}

/**
 * The statements PostgreSQL logged for `database` after byte `start` of its log: with
 * `log_statement=all` and `log_line_prefix=%d:`, a statement is a `<db>:LOG:  statement: …` or
 * `<db>:LOG:  execute <name>: …` line (logged when the server receives it), its parameters a
 * `<db>:DETAIL:  parameters: …` line after it.
 */
function loggedStatements(logFile: string, start: number, database: string): Statement[] {
  const length = statSync(logFile).size - start;
  const buffer = Buffer.alloc(Math.max(0, length));
  const fd = openSync(logFile, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  const statements: Statement[] = [];
  // Prepared statements carry their name, which may contain colons (rate-limiter-flexible: "table:rlflx-upsert").
  const statementLine = /^LOG: {2}(?:statement|execute \S+): (.*)$/;
  const parametersLine = /^DETAIL: {2}parameters: (.*)$/;
  // Where the lines of a multi-line message go (they follow it, each starting with a tab).
  let continuing: ((text: string) => void) | null = null;
  for (const line of buffer.toString("utf8").split("\n")) {
    if (line.startsWith("\t")) {
      continuing?.(line.slice(1));
      continue;
    }
    continuing = null;
    if (!line.startsWith(`${database}:`)) continue;
    const rest = line.slice(database.length + 1);
    const statement = statementLine.exec(rest);
    if (statement?.[1] !== undefined) {
      const entry: Statement = { sql: statement[1], params: "" };
      statements.push(entry);
      continuing = (text) => (entry.sql += `\n${text}`);
      continue;
    }
    const parameters = parametersLine.exec(rest);
    const last = statements[statements.length - 1];
    if (parameters?.[1] !== undefined && last) {
      last.params = parameters[1];
      continuing = (text) => (last.params += `\n${text}`);
    }
  }
  return statements;
}
