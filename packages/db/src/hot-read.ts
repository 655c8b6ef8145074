import BetterSqlite3 from "better-sqlite3";
import type { Db } from "./client";

/**
 * A read sent on nearly every request (the bearer-token lookup), outside Prisma's query machinery.
 *
 * Why: through Prisma, one small indexed read costs about 0.7 ms of CPU on SQLite (the query
 * interpreter, then the adapter preparing the statement anew each time), more than the read
 * itself by far; it was a fifth of an API request's cost (bench/findings.md §1). On SQLite the
 * statement is prepared once on a connection of its own (WAL: it sees every committed write and
 * never blocks the writer). On PostgreSQL the network round trip dominates, so the read goes
 * through Prisma as before.
 *
 * Values come back as each driver gives them (SQLite: ISO or "YYYY-MM-DD HH:MM:SS" text for
 * dates, 0/1 for booleans; PostgreSQL: Date and boolean): read them with `sqlDate`/`sqlBoolean`.
 * Placeholders are `?`; the SQL must be the same on both providers.
 */
export type HotReader = (sql: string, args: readonly (string | number | null)[]) => Promise<Record<string, unknown>[]>;

const readers = new WeakMap<Db, HotReader>();

export function registerHotReader(db: Db, reader: HotReader): void {
  readers.set(db, reader);
}

/** Runs `sql` through the hot path registered for this client by openDatabase. */
export function hotRead(db: Db, sql: string, args: readonly (string | number | null)[]): Promise<Record<string, unknown>[]> {
  const reader = readers.get(db);
  if (!reader) throw new Error("hotRead needs a client made by openDatabase");
  return reader(sql, args);
}

/** The SQLite reader: one extra connection, opened on first use, with its statements kept prepared. */
export function sqliteHotReader(path: string, busyTimeoutMs: number, onQuery?: (sql: string, params: string) => void) {
  let connection: BetterSqlite3.Database | undefined;
  const statements = new Map<string, BetterSqlite3.Statement>();
  const read: HotReader = async (sql, args) => {
    connection ??= new BetterSqlite3(path, { fileMustExist: true, timeout: busyTimeoutMs });
    let statement = statements.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      statements.set(sql, statement);
    }
    onQuery?.(sql, JSON.stringify(args));
    return statement.all(...args) as Record<string, unknown>[];
  };
  const close = () => {
    statements.clear();
    connection?.close();
    connection = undefined;
  };
  return { read, close };
}

/** The PostgreSQL reader: Prisma's raw query, with `?` placeholders numbered as PostgreSQL wants. */
export function postgresHotReader(db: Db): HotReader {
  const numbered = new Map<string, string>();
  return (sql, args) => {
    let text = numbered.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      numbered.set(sql, text);
    }
    return db.$queryRawUnsafe<Record<string, unknown>[]>(text, ...args);
  };
}

const SQLITE_DATETIME_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/;

/** A date column as a Date: Prisma writes ISO text on SQLite, SQLite's CURRENT_TIMESTAMP writes UTC without a zone. */
export function sqlDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  if (typeof value === "string") {
    const date = new Date(SQLITE_DATETIME_WITHOUT_ZONE.test(value) ? `${value.replace(" ", "T")}Z` : value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new Error(`not a date column value: ${typeof value}`);
}

export function sqlDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : sqlDate(value);
}

/** A boolean column as a boolean (SQLite stores 0/1). */
export function sqlBoolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number" || typeof value === "bigint") return Number(value) !== 0;
  throw new Error(`not a boolean column value: ${typeof value}`);
}
