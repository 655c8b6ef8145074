// The API exactly as the web server wires it (createOnaApi behind node:http), but in this
// process, so that every SQL statement a request sends can be seen: Prisma's query events, and
// for PostgreSQL also every statement any pg client sends (rate limiter included).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { createOnaApi, type ApiConfig, type Logger, type OnaApi } from "@ona/api";
import { openDatabase, type Database, type DatabaseProvider } from "@ona/db";

export interface CapturedQuery {
  sql: string;
  /** JSON array of the bound values, as Prisma reports them. */
  params: string;
}

export interface QueryLog {
  /** Statements the database client sent (Prisma and the hot-read path), in order. */
  client: CapturedQuery[];
  /** PostgreSQL only: every statement any pg client in this process sent (Prisma's and others'). */
  wire: string[];
  clear(): void;
}

export interface InProcessApi {
  url: string;
  api: OnaApi;
  database: Database;
  provider: DatabaseProvider;
  queries: QueryLog;
  /** The API's clock: starts at the real time and moves only with advance(). */
  clock: { now(): Date; advance(ms: number): void };
  close(): Promise<void>;
}

const quietLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

type PgQuery = typeof pg.Client.prototype.query;

/** Counts what every pg.Client in this process sends; returns the function that undoes it. */
function tapPgClients(onStatement: (sql: string) => void): () => void {
  const original: PgQuery = pg.Client.prototype.query;
  const tapped = function (this: pg.Client, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === "string" ? first : first && typeof first === "object" && "text" in first ? String(first.text) : "";
    if (text) onStatement(text);
    return Reflect.apply(original, this, args);
  };
  pg.Client.prototype.query = tapped as unknown as PgQuery;
  return () => {
    pg.Client.prototype.query = original;
  };
}

export async function startInProcessApi(databaseUrl: string, config: Partial<ApiConfig> = {}): Promise<InProcessApi> {
  const client: CapturedQuery[] = [];
  const wire: string[] = [];
  const untap = databaseUrl.startsWith("file:") ? () => undefined : tapPgClients((sql) => wire.push(sql));
  // Every statement the database client sends (Prisma's and the token lookup's hot path), with its values.
  const database = await openDatabase(databaseUrl, { onQuery: (sql, params) => client.push({ sql, params }) });

  let now = Date.now();
  const clock = { now: () => new Date(now), advance: (ms: number) => void (now += ms) };

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = await createOnaApi({
    database,
    config: {
      serverSecret: "bench-server-secret-0123456789abcdef0123456789abcdef",
      publicUrl: url,
      trustedOrigins: [],
      trustedProxyHops: 0,
      authFailureLimit: 1000,
      authFailureWindowSeconds: 300,
      // No runner clones anything here: no local folder is a repository source.
      repositorySources: { localRepositories: [], forbidden: [] },
      ...config,
    },
    clock: clock.now,
    logger: quietLogger,
    runner: { exec: () => Promise.reject(new Error("the benchmark's in-process API runs no runner")) },
  });
  server.on("request", (req, res) => {
    void api.handleApi(req, res).then(async (handled) => {
      if (handled) return;
      if (req.url?.startsWith("/api/auth/")) return api.handleAuth(req, res);
      res.writeHead(404).end();
    });
  });
  const queries: QueryLog = {
    client,
    wire,
    clear() {
      client.length = 0;
      wire.length = 0;
    },
  };
  return {
    url,
    api,
    database,
    provider: database.provider,
    queries,
    clock,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await api.close();
      await database.close();
      untap();
    },
  };
}
