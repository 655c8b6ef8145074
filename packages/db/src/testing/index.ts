// Test helpers for suites that need a real database (`@ona/db/testing`). Not for production
// code: they start servers and write temp files.
export {
  startPostgres,
  DEFAULT_POSTGRES_BIN_DIR,
  type PostgresServer,
  type StartPostgresOptions,
  type CreateDatabaseOptions,
} from "./postgres";
export {
  createMigratedTemplate,
  freshTestDatabase,
  freshPostgresDatabase,
  freshSqliteDatabase,
  removeSqliteTestFiles,
  startTestDatabases,
  testDatabaseProvider,
  TEMPLATE_DATABASE,
  type TestDatabase,
  type TestDatabases,
} from "./databases";
