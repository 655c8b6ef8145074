import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client";
import { postgresHotReader, registerHotReader, sqliteHotReader } from "./hot-read";

/**
 * The services are typed against the SQLite client; the PostgreSQL client has the same models
 * and row types (checked at compile time in client-types-check.ts) and accepts a superset of
 * the inputs, so it is cast to this type once, here.
 */
export type Db = SqliteClient;
export type DatabaseProvider = "sqlite" | "postgresql";

export interface Database {
  db: Db;
  provider: DatabaseProvider;
  url: string;
  close(): Promise<void>;
}

export function providerOf(url: string): DatabaseProvider {
  if (url.startsWith("file:")) return "sqlite";
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return "postgresql";
  throw new Error(
    `DATABASE_URL must start with file: (SQLite) or postgresql:// (PostgreSQL); got "${url.split(":")[0]}:…"`,
  );
}

/** `file:./x.db` or `file:/abs/x.db` → the path better-sqlite3 opens. */
export function sqlitePathOf(url: string): string {
  return url.replace(/^file:(\/\/)?/, "").replace(/\?.*$/, "");
}

/** How long a SQLite writer waits for another to finish before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export interface OpenDatabaseOptions {
  /**
   * Called with every SQL statement the client sends, Prisma's and the hot path's, and its
   * parameters as JSON text (tests and benchmarks count queries with it).
   */
  onQuery?: (sql: string, params: string) => void;
}

/** Prisma emits query events only when asked to at construction. */
function queryLogging(options: OpenDatabaseOptions) {
  return options.onQuery ? { log: [{ emit: "event" as const, level: "query" as const }] } : {};
}

function subscribe(db: { $on(event: "query", listener: (event: { query: string; params: string }) => void): void }, options: OpenDatabaseOptions) {
  const onQuery = options.onQuery;
  if (onQuery) db.$on("query", (event) => onQuery(event.query, event.params));
}

export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const provider = providerOf(url);
  if (provider === "sqlite") {
    const adapter = new PrismaBetterSqlite3({ url: sqlitePathOf(url), timeout: SQLITE_BUSY_TIMEOUT_MS });
    const client = new SqliteClient({ adapter, ...queryLogging(options) });
    subscribe(client as unknown as Parameters<typeof subscribe>[0], options);
    const db = client as unknown as Db;
    // WAL lets readers work while a writer commits; foreign keys make cascades real.
    await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await db.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await db.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    const hotReader = sqliteHotReader(sqlitePathOf(url), SQLITE_BUSY_TIMEOUT_MS, options.onQuery);
    registerHotReader(db, hotReader.read);
    return {
      db,
      provider,
      url,
      close: async () => {
        hotReader.close();
        await db.$disconnect();
      },
    };
  }
  const adapter = new PrismaPg({ connectionString: url, max: 10 });
  const client = new PostgresClient({ adapter, ...queryLogging(options) });
  subscribe(client as unknown as Parameters<typeof subscribe>[0], options);
  const db = client as unknown as Db;
  registerHotReader(db, postgresHotReader(db));
  return { db, provider, url, close: () => db.$disconnect() };
}
