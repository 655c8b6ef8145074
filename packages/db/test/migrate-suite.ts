// The migration tests, run once per provider (migrate.sqlite.test.ts, migrate.postgres.test.ts).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, type DatabaseProvider } from "../src/client";
import { loadMigrations, migrate, defaultMigrationsDir, type MigrateResult } from "../src/migrate";
import type { TestDatabase } from "../src/testing";
import { expectEveryFieldSet, expectEveryModelRoundTrips, expectUserDeletionCascades } from "./round-trip";
import { copyOfMigrations, sql } from "./support";

export interface Target {
  provider: DatabaseProvider;
  /** The URL of a database that does not exist yet. */
  newUrl(): string;
  /** A fresh migrated database from the @ona/db/testing helpers. */
  fresh(): Promise<TestDatabase>;
  /** Calls migrate(url) `count` times at once, from separate connections (and processes, where it matters). */
  migrateConcurrently(url: string, count: number): Promise<MigrateResult[]>;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function describeMigrations(target: Target): void {
  const { provider } = target;
  const names = loadMigrations(provider).map((m) => m.name);
  const appliedNames = async (url: string): Promise<string[]> =>
    (await sql(url, `SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`)).map((r) => String(r.migration_name));

  describe(`migrate on ${provider}`, () => {
    it("applies every migration to a new database, and nothing when run again", async () => {
      const url = target.newUrl();
      expect(await migrate(url)).toEqual({ provider, applied: names });
      expect(await migrate(url)).toEqual({ provider, applied: [] });
      expect(await appliedNames(url)).toEqual(names);
    });

    it("records each migration in _prisma_migrations as Prisma does", async () => {
      const url = target.newUrl();
      await migrate(url);
      if (provider === "sqlite") {
        // Byte for byte the table Prisma's schema engine creates.
        const [table] = await sql(url, `SELECT sql FROM sqlite_master WHERE name = '_prisma_migrations'`);
        expect(table?.sql).toBe(`CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`);
      } else {
        const columns = await sql(
          url,
          `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
             FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
        );
        expect(columns).toEqual([
          { column_name: "id", data_type: "character varying", character_maximum_length: 36, is_nullable: "NO", column_default: null },
          { column_name: "checksum", data_type: "character varying", character_maximum_length: 64, is_nullable: "NO", column_default: null },
          { column_name: "finished_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "YES", column_default: null },
          { column_name: "migration_name", data_type: "character varying", character_maximum_length: 255, is_nullable: "NO", column_default: null },
          { column_name: "logs", data_type: "text", character_maximum_length: null, is_nullable: "YES", column_default: null },
          { column_name: "rolled_back_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "YES", column_default: null },
          { column_name: "started_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "NO", column_default: "now()" },
          { column_name: "applied_steps_count", data_type: "integer", character_maximum_length: null, is_nullable: "NO", column_default: "0" },
        ]);
      }
      const rows = await sql(url, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      for (const row of rows) {
        const file = readFileSync(join(defaultMigrationsDir(), provider, String(row.migration_name), "migration.sql"));
        expect(row).toMatchObject({
          checksum: createHash("sha256").update(file).digest("hex"),
          logs: null,
          rolled_back_at: null,
          applied_steps_count: 1,
        });
        expect(String(row.id)).toMatch(uuid);
        if (provider === "sqlite") {
          // Prisma writes RFC 3339 text with milliseconds and an offset on SQLite.
          expect(String(row.started_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
          expect(String(row.finished_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
          expect(String(row.finished_at) >= String(row.started_at)).toBe(true);
        } else {
          expect(row.started_at).toBeInstanceOf(Date);
          expect(row.finished_at).toBeInstanceOf(Date);
          expect(Number(row.finished_at) >= Number(row.started_at)).toBe(true);
        }
      }
    });

    it("gives a migrated database that every model round-trips through, with cascades", async () => {
      expectEveryFieldSet();
      const fresh = await target.fresh();
      const database = await openDatabase(fresh.url);
      try {
        await expectEveryModelRoundTrips(database.db);
        await expectUserDeletionCascades(database.db);
      } finally {
        await database.close();
        await fresh.drop();
      }
    });

    it("applies each migration once when several processes migrate a new database at once", async () => {
      const url = target.newUrl();
      const results = await target.migrateConcurrently(url, 3);
      expect(results).toHaveLength(3);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
      expect(await appliedNames(url)).toEqual(names);
    });

    it("refuses a migration whose file changed after it was applied, but not its line endings", async () => {
      const url = target.newUrl();
      const migrationsDir = copyOfMigrations();
      await migrate(url, { migrationsDir });
      const last = names.at(-1) ?? "";
      const file = join(migrationsDir, provider, last, "migration.sql");
      const committed = readFileSync(file, "utf8");
      // A Windows checkout (core.autocrlf) is the same migration; Prisma accepts it too.
      writeFileSync(file, committed.replace(/\n/g, "\r\n"));
      expect(await migrate(url, { migrationsDir })).toEqual({ provider, applied: [] });
      writeFileSync(file, `${committed}\n-- an edit after the fact\n`);
      await expect(migrate(url, { migrationsDir })).rejects.toThrow(
        new RegExp(`migration ${last} was changed after it was applied.*pnpm db:migration`),
      );
    });

    it("refuses to run while a migration is marked unfinished", async () => {
      const url = target.newUrl();
      await migrate(url);
      await sql(url, `UPDATE "_prisma_migrations" SET finished_at = NULL WHERE migration_name = '${names[0] ?? ""}'`);
      await expect(migrate(url)).rejects.toThrow(/did not finish.*neither finished_at nor rolled_back_at/);
    });

    it("rolls a failing migration back completely and applies it once fixed", async () => {
      const url = target.newUrl();
      const migrationsDir = copyOfMigrations();
      await migrate(url, { migrationsDir });
      const broken = join(migrationsDir, provider, "99990101000000_broken");
      mkdirSync(broken);
      writeFileSync(join(broken, "migration.sql"), `CREATE TABLE "half_done" ("id" INTEGER);\nINSERT INTO "no_such_table" VALUES (1);\n`);
      await expect(migrate(url, { migrationsDir })).rejects.toThrow(/migration 99990101000000_broken failed, nothing of it was kept/);
      const leftover =
        provider === "sqlite"
          ? await sql(url, `SELECT name FROM sqlite_master WHERE name = 'half_done'`)
          : await sql(url, `SELECT to_regclass('half_done')::text AS name WHERE to_regclass('half_done') IS NOT NULL`);
      expect(leftover).toEqual([]);
      expect(await appliedNames(url)).toEqual(names);

      writeFileSync(join(broken, "migration.sql"), `CREATE TABLE "half_done" ("id" INTEGER);\n`);
      expect(await migrate(url, { migrationsDir })).toEqual({ provider, applied: ["99990101000000_broken"] });
    });

    it("names the problem when the migrations folder is missing", async () => {
      await expect(migrate(target.newUrl(), { migrationsDir: "/nonexistent/migrations" })).rejects.toThrow(
        /no .* migrations at \/nonexistent\/migrations.*migrationsDir/,
      );
    });
  });
}
