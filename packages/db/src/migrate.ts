// Applies the committed migration SQL (packages/db/migrations/<provider>/<name>/migration.sql).
//
// Why not `prisma migrate deploy`: Prisma 7's migrate commands need a schema engine binary that
// cannot be downloaded on these machines (see README.md). This module does what `migrate
// deploy` does and records every migration in `_prisma_migrations` exactly as Prisma would, so
// Prisma's own `migrate status` reads the same history, and a switch back to Prisma's runner
// later needs no data fix-up.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { providerOf, sqlitePathOf, type DatabaseProvider } from "./client";

export interface MigrateResult {
  provider: DatabaseProvider;
  /** Names of the migrations this call applied, in order; empty when the database was up to date. */
  applied: string[];
}

export interface MigrateOptions {
  /**
   * The folder holding `sqlite/` and `postgresql/` migration folders. Defaults to the
   * `migrations` folder of this package, found from this source file; a bundled server (whose
   * `import.meta.url` is its bundle) must pass it.
   */
  migrationsDir?: string;
}

/** A refusal or failure the operator has to act on; the message says what to do. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

export interface Migration {
  name: string;
  sql: string;
  /** sha256 of migration.sql, hex: what Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

/** The key Prisma's schema engine locks on PostgreSQL; holding the same one keeps both out of each other's way. */
export const POSTGRES_ADVISORY_LOCK_KEY = 72707369;

/** A migration on a big table can hold SQLite's write lock for a while; wait longer than the app does. */
const SQLITE_MIGRATE_BUSY_TIMEOUT_MS = 60_000;

// The migrations table, byte for byte as Prisma's schema engine creates it.
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const POSTGRES_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

const SELECT_APPLIED = `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at ASC`;

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export function defaultMigrationsDir(): string {
  // Computed on demand: in a bundle import.meta.url is the bundle, and callers pass the folder.
  return fileURLToPath(new URL("../migrations", import.meta.url));
}

export function migrationChecksum(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}

/**
 * Prisma's rule for "this file is what was applied": the checksum of the script as it is, or
 * with its line endings converted either way (a Windows checkout turns LF into CRLF), and in
 * the hex form without zero padding that an old Prisma engine wrote.
 */
function checksumMatches(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replace(/\r\n/g, "\n"), sql.replace(/\n/g, "\r\n")];
  return variants.some((variant) => {
    const digest = createHash("sha256").update(variant, "utf8").digest();
    const unpadded = [...digest].map((byte) => byte.toString(16)).join("");
    return digest.toString("hex") === checksum || unpadded === checksum;
  });
}

/** The migrations for one provider, in the order Prisma applies them (by folder name). */
export function loadMigrations(provider: DatabaseProvider, migrationsDir: string = defaultMigrationsDir()): Migration[] {
  const root = join(migrationsDir, provider);
  if (!existsSync(root)) {
    throw new MigrationError(
      `no ${provider} migrations at ${root}: pass migrate(url, { migrationsDir }) the folder that holds packages/db/migrations/${provider}`,
    );
  }
  const lockfile = join(root, "migration_lock.toml");
  if (existsSync(lockfile)) {
    const locked = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockfile, "utf8"))?.[1];
    if (locked !== undefined && locked !== provider) {
      throw new MigrationError(`${lockfile} says provider "${locked}", but these migrations were asked for ${provider}`);
    }
  }
  const names = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  if (names.length === 0) throw new MigrationError(`no migrations in ${root}`);
  return names.map((name) => {
    const file = join(root, name, "migration.sql");
    if (!existsSync(file)) throw new MigrationError(`${file} is missing: every migration folder needs its migration.sql`);
    const sql = readFileSync(file, "utf8");
    return { name, sql, checksum: migrationChecksum(sql) };
  });
}

/**
 * Which local migrations still have to run, given the rows of `_prisma_migrations` — Prisma's
 * rules: a row with neither `finished_at` nor `rolled_back_at` is a failed or interrupted
 * migration and blocks everything; a rolled-back row does not count as applied; an applied
 * migration whose file changed is refused. Rows unknown locally (a newer build migrated this
 * database) are left alone, as `prisma migrate deploy` does.
 */
function pendingMigrations(migrations: Migration[], rows: MigrationRow[], provider: DatabaseProvider): Migration[] {
  const unfinished = rows.find((row) => isNull(row.finished_at) && isNull(row.rolled_back_at));
  if (unfinished !== undefined) {
    throw new MigrationError(
      `migration ${unfinished.migration_name} did not finish (its _prisma_migrations row has neither finished_at nor rolled_back_at), ` +
        `so no migration will run. Inspect the ${provider} database and either complete the migration by hand and set finished_at, ` +
        `or undo it and set rolled_back_at (it is applied again next time) on that row; then run the migration again.`,
    );
  }
  const applied = rows.filter((row) => isNull(row.rolled_back_at));
  for (const migration of migrations) {
    const row = applied.find((r) => r.migration_name === migration.name);
    if (row !== undefined && !checksumMatches(migration.sql, row.checksum)) {
      throw new MigrationError(
        `migration ${migration.name} was changed after it was applied to this database (its checksum no longer matches ` +
          `_prisma_migrations). Restore migrations/${provider}/${migration.name}/migration.sql as committed and put the change ` +
          `in a new migration (pnpm db:migration <name>).`,
      );
    }
  }
  return migrations.filter((migration) => !applied.some((row) => row.migration_name === migration.name));
}

function isNull(value: unknown): boolean {
  return value === null || value === undefined;
}

/**
 * Brings the database at `url` (`file:` SQLite or `postgresql://`) up to date with the
 * committed migrations. Idempotent, and safe to call from several processes at once.
 */
export async function migrate(url: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const provider = providerOf(url);
  const migrations = loadMigrations(provider, options.migrationsDir ?? defaultMigrationsDir());
  const applied = provider === "sqlite" ? migrateSqlite(url, migrations) : await migratePostgres(url, migrations);
  return { provider, applied };
}

/** Prisma writes SQLite timestamps as RFC 3339 text with milliseconds and an explicit offset. */
function sqliteNow(): string {
  return new Date().toISOString().replace("Z", "+00:00");
}

/**
 * Switching a file to WAL needs a lock that SQLite may refuse at once (SQLITE_BUSY without
 * calling the busy handler) while another process is switching it or migrating, so it is
 * retried until the busy timeout. A file already in WAL only has it read.
 */
function enableWal(conn: Database.Database): void {
  const deadline = Date.now() + SQLITE_MIGRATE_BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      if (conn.pragma("journal_mode", { simple: true }) === "wal") return;
      conn.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      const busy = typeof error === "object" && error !== null && "code" in error && (error.code === "SQLITE_BUSY" || error.code === "SQLITE_LOCKED");
      if (!busy || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

function migrateSqlite(url: string, migrations: Migration[]): string[] {
  const file = resolve(sqlitePathOf(url));
  mkdirSync(dirname(file), { recursive: true });
  const conn = new Database(file, { timeout: SQLITE_MIGRATE_BUSY_TIMEOUT_MS });
  const applied: string[] = [];
  try {
    // WAL is a property of the file, so setting it here sets it for the app too.
    enableWal(conn);
    // Prisma's table-redefinition scripts say `PRAGMA foreign_keys=OFF`, which SQLite ignores
    // inside a transaction: with keys on, their `DROP TABLE` would cascade-delete child rows.
    // So keys go off before the transaction and foreign_key_check stands in for them.
    conn.pragma("foreign_keys = OFF");
    // One transaction per migration. BEGIN IMMEDIATE takes the write lock up front (waiting
    // for another migrating process), and the applied list is read again under it each time.
    for (;;) {
      conn.exec("BEGIN IMMEDIATE");
      try {
        const hasTable = conn.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`).get();
        if (hasTable === undefined) conn.exec(SQLITE_MIGRATIONS_TABLE);
        const rows = conn.prepare<[], MigrationRow>(SELECT_APPLIED).all();
        const next = pendingMigrations(migrations, rows, "sqlite")[0];
        if (next === undefined) {
          conn.exec("COMMIT");
          break;
        }
        const startedAt = sqliteNow();
        try {
          conn.exec(next.sql);
        } catch (error) {
          throw new MigrationError(`migration ${next.name} failed, nothing of it was kept: ${messageOf(error)}`, { cause: error });
        }
        const violations = conn.pragma("foreign_key_check") as unknown[];
        if (violations.length > 0) {
          throw new MigrationError(
            `migration ${next.name} would leave ${violations.length} row(s) violating foreign keys ` +
              `(first: ${JSON.stringify(violations[0])}); nothing of it was kept. Fix the migration SQL.`,
          );
        }
        conn
          .prepare(
            `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
             VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
          )
          .run(randomUUID(), next.checksum, sqliteNow(), next.name, startedAt);
        conn.exec("COMMIT");
        applied.push(next.name);
      } catch (error) {
        // Some SQLite errors end the transaction themselves.
        if (conn.inTransaction) conn.exec("ROLLBACK");
        throw error;
      }
    }
    conn.pragma("foreign_keys = ON");
  } finally {
    conn.close();
  }
  return applied;
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<string[]> {
  const client = await connectPostgres(url);
  const applied: string[] = [];
  try {
    // Prisma's lock: while one process migrates, the others wait here, then find nothing to do.
    await client.query("SELECT pg_advisory_lock($1)", [POSTGRES_ADVISORY_LOCK_KEY]);
    try {
      const exists = await client.query<{ found: string | null }>(`SELECT to_regclass('_prisma_migrations')::text AS found`);
      if (exists.rows[0]?.found == null) await client.query(POSTGRES_MIGRATIONS_TABLE);
      const rows = await client.query<MigrationRow>(SELECT_APPLIED);
      for (const migration of pendingMigrations(migrations, rows.rows, "postgresql")) {
        // PostgreSQL's DDL is transactional: a failed migration leaves no trace, and no
        // half-applied state that would need Prisma's "failed migration" row.
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query(
            `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
             VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
            [randomUUID(), migration.checksum, migration.name],
          );
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw new MigrationError(`migration ${migration.name} failed, nothing of it was kept: ${messageOf(error)}`, { cause: error });
        }
        applied.push(migration.name);
      }
    } finally {
      // Ending the session releases the lock anyway; unlocking first is just tidy.
      await client.query("SELECT pg_advisory_unlock($1)", [POSTGRES_ADVISORY_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
  return applied;
}

/**
 * A client whose lost connection rejects the query in flight instead of crashing the process:
 * without an "error" listener, pg throws a server shutdown between queries as an uncaught error.
 */
function newPgClient(connectionString: string): pg.Client {
  const client = new pg.Client({ connectionString });
  client.on("error", () => undefined);
  return client;
}

/** Connects, creating the database first when it does not exist (as `prisma migrate deploy` does). */
async function connectPostgres(url: string): Promise<pg.Client> {
  const client = newPgClient(url);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    if (codeOf(error) !== "3D000") throw error; // 3D000: database does not exist
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const adminClient = newPgClient(admin.toString());
  await adminClient.connect();
  try {
    await adminClient.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    // Another process created it just now: 42P04, or 23505 when both inserted at once.
    if (codeOf(error) !== "42P04" && codeOf(error) !== "23505") throw error;
  } finally {
    await adminClient.end();
  }
  const retry = newPgClient(url);
  await retry.connect();
  return retry;
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
