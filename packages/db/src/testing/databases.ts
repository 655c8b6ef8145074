// Fresh, migrated databases for tests, one per test if wanted, without paying for the
// migrations each time: PostgreSQL copies a migrated template database (`CREATE DATABASE t_N
// TEMPLATE ona_template`, as trigger.dev's tests do), SQLite copies a migrated template file.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseProvider } from "../client";
import { migrate, type MigrateOptions } from "../migrate";
import { startPostgres, type PostgresServer, type StartPostgresOptions } from "./postgres";

export const TEMPLATE_DATABASE = "ona_template";

export interface TestDatabase {
  provider: DatabaseProvider;
  /** `file:/tmp/…/t_N.db` or `postgresql://postgres@127.0.0.1:PORT/t_N`, ready for openDatabase(). */
  url: string;
  /** Deletes the database (close your clients first on SQLite; PostgreSQL closes them). */
  drop(): Promise<void>;
}

// Unique across the processes that may share one server (vitest runs files in several).
let counter = 0;
const nextName = (): string => `t_${process.pid}_${++counter}`;

const templates = new WeakMap<PostgresServer, Promise<string>>();

/**
 * Creates the database `ona_template` on `server` and migrates it; returns its name. Once per
 * server: later calls return the same promise.
 */
export function createMigratedTemplate(server: PostgresServer, options: MigrateOptions = {}): Promise<string> {
  let template = templates.get(server);
  if (template === undefined) {
    template = (async () => {
      await server.createDatabase(TEMPLATE_DATABASE);
      // migrate() closes its connection: CREATE DATABASE … TEMPLATE needs none left open.
      await migrate(server.urlFor(TEMPLATE_DATABASE), options);
      return TEMPLATE_DATABASE;
    })();
    templates.set(server, template);
  }
  return template;
}

/** A new database on `server` cloned from the migrated template (made on first use). */
export async function freshPostgresDatabase(server: PostgresServer, options: MigrateOptions = {}): Promise<TestDatabase> {
  const template = await createMigratedTemplate(server, options);
  const name = nextName();
  const url = await server.createDatabase(name, { template });
  return { provider: "postgresql", url, drop: () => server.dropDatabase(name) };
}

// The folder holding this process's SQLite template and copies, and the template being made.
let sqliteDir: string | undefined;
let sqliteTemplate: Promise<string> | undefined;

/**
 * Removes this process's SQLite template and any test files not dropped yet. Call it in
 * afterAll (startTestDatabases().stop() does): the exit hook below does not run when vitest
 * ends its worker processes with a signal.
 */
export function removeSqliteTestFiles(): void {
  if (sqliteDir !== undefined) rmSync(sqliteDir, { recursive: true, force: true });
  sqliteDir = undefined;
  sqliteTemplate = undefined;
}

/** The folder for SQLite test files, and its migrated template file (made once per process). */
function sqliteTemplateFile(options: MigrateOptions): Promise<{ dir: string; file: string }> {
  if (sqliteDir === undefined || sqliteTemplate === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "ona-sqlite-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "template.db");
    sqliteDir = dir;
    sqliteTemplate = migrate(`file:${file}`, options).then(() => file);
  }
  const dir = sqliteDir;
  return sqliteTemplate.then((file) => ({ dir, file }));
}

/**
 * A new migrated SQLite file. It is a copy of a template migrated once per process; migrate()
 * closes its connection, which checkpoints the WAL into the file, so the copy is complete (and
 * in WAL mode, which is recorded in the file).
 */
export async function freshSqliteDatabase(options: MigrateOptions = {}): Promise<TestDatabase> {
  const { dir, file } = await sqliteTemplateFile(options);
  const path = join(dir, `${nextName()}.db`);
  copyFileSync(file, path);
  return {
    provider: "sqlite",
    url: `file:${path}`,
    drop: async () => {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
    },
  };
}

/** A fresh migrated database: on `server` when given (PostgreSQL), else a SQLite file. */
export function freshTestDatabase(server?: PostgresServer, options: MigrateOptions = {}): Promise<TestDatabase> {
  return server === undefined ? freshSqliteDatabase(options) : freshPostgresDatabase(server, options);
}

/**
 * Which provider a test run targets: unset or `sqlite` selects SQLite, `postgres` or
 * `postgresql` selects PostgreSQL (see tests/package.json). Anything else is refused: a typo
 * must not quietly run the suites on SQLite and report them as passed.
 */
export function testDatabaseProvider(env: Record<string, string | undefined> = process.env): DatabaseProvider {
  const value = env.ONA_TEST_DB?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "sqlite") return "sqlite";
  if (value === "postgres" || value === "postgresql") return "postgresql";
  throw new Error(`ONA_TEST_DB="${env.ONA_TEST_DB}" is not a database the tests know: use sqlite, postgres, or leave it unset (SQLite)`);
}

export interface TestDatabases {
  provider: DatabaseProvider;
  /** Set when provider is PostgreSQL. */
  server: PostgresServer | undefined;
  fresh(): Promise<TestDatabase>;
  /** Stops the PostgreSQL server, if one was started, and removes the SQLite files. */
  stop(): Promise<void>;
}

/**
 * Everything a suite needs in one call (beforeAll), for the provider the run targets:
 * `const dbs = await startTestDatabases(); const { url } = await dbs.fresh(); … await dbs.stop();`
 */
export async function startTestDatabases(
  provider: DatabaseProvider = testDatabaseProvider(),
  options: MigrateOptions & StartPostgresOptions = {},
): Promise<TestDatabases> {
  const server = provider === "postgresql" ? await startPostgres(options) : undefined;
  return {
    provider,
    server,
    fresh: () => freshTestDatabase(server, options),
    stop: async () => {
      removeSqliteTestFiles();
      await server?.stop();
    },
  };
}
