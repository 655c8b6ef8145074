// Prisma 6 configuration for `node new-migration.mjs --status file:<path>`: Prisma's own
// `migrate status` against a SQLite database that @ona/db migrated, to show both read the same
// `_prisma_migrations` history. new-migration.mjs passes the database and migrations folder.
// (PostgreSQL would need @prisma/adapter-pg@6 here; the table format is the same.)
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";

const database = process.env.ONA_STATUS_SQLITE_PATH;
const migrations = process.env.ONA_STATUS_MIGRATIONS_DIR;
if (database === undefined || migrations === undefined) {
  throw new Error("run this through: node new-migration.mjs --status file:<path>");
}

export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  schema: "hint.prisma",
  migrations: { path: migrations },
  adapter: async () => new PrismaBetterSQLite3({ url: database }),
});
