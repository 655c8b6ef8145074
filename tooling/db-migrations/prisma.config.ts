// Prisma 6 configuration for producing migration SQL offline (see new-migration.mjs).
//
// Prisma 7's CLI needs a schema engine binary that cannot be downloaded here, so migration
// SQL is made with Prisma 6's wasm schema engine (`engine: "js"`), which works through a
// driver adapter instead of a binary. The adapter is an in-memory SQLite database: `migrate
// diff --from-schema-datamodel … --to-schema-datamodel …` compares two datamodels and never
// reads it, which is why the same adapter serves the PostgreSQL diffs too.
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";

export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  // Prisma 6 loads a schema on every command; this one's generator has `engineType =
  // "client"` so that the CLI does not try to download a query engine either.
  schema: "hint.prisma",
  adapter: async () => new PrismaBetterSQLite3({ url: ":memory:" }),
});
