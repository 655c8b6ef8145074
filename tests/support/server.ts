import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
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

export interface TestServer {
  url: string;
  api: OnaApi;
  database: Database;
  clock: TestClock;
  runner: LocalRunner | null;
  dataDir: string;
  /** Every line the server logged, for the no-secret-in-logs checks. */
  logs: LogLine[];
  /** Every SQL statement sent so far (clear it with `queries.length = 0`). */
  queries: string[];
  /** The database URL (a SQLite file or a PostgreSQL database). */
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  databases: TestDatabases;
  config?: Partial<ApiConfig>;
  runner?: boolean;
}

/**
 * The API exactly as the web server serves it (the same listener on a real port, a real
 * database), with better-auth's routes mounted next to it, and a clock the test controls.
 */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const fresh = await options.databases.fresh();
  const queries: string[] = [];
  const database = await openDatabase(fresh.url, { onQuery: (sql) => queries.push(sql) });
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
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    const config: ApiConfig = {
      serverSecret: "test-server-secret-0123456789abcdef0123456789abcdef",
      publicUrl: url,
      trustedOrigins: [],
      trustProxy: false,
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
