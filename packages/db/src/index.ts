export { openDatabase, providerOf, sqlitePathOf, SQLITE_BUSY_TIMEOUT_MS } from "./client";
export type { OpenDatabaseOptions } from "./client";
export type { Db, Database, DatabaseProvider } from "./client";
export { migrate } from "./migrate";
export { hotRead, sqlBoolean, sqlDate, sqlDateOrNull } from "./hot-read";
export type { MigrateResult } from "./migrate";
export type {
  User,
  Session,
  PersonalAccessToken as PersonalAccessTokenRow,
  Runner as RunnerRow,
  EnvironmentClass as EnvironmentClassRow,
  Environment as EnvironmentRow,
  EnvironmentLog as EnvironmentLogRow,
  AuditEntry as AuditEntryRow,
} from "./generated/sqlite/client";
export { Prisma } from "./generated/sqlite/client";
