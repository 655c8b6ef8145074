import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, sqlitePathOf } from "../src/client";
import { migrate, type MigrateResult } from "../src/migrate";
import { freshSqliteDatabase, removeSqliteTestFiles } from "../src/testing";
import { describeMigrations } from "./migrate-suite";
import { copyOfMigrations, packageDir, removeTempDirs, sql, tempDir } from "./support";

afterAll(() => {
  removeTempDirs();
  removeSqliteTestFiles();
});

let n = 0;
const newUrl = (): string => `file:${join(tempDir(), "not", "yet", `db-${++n}.sqlite`)}`;

/**
 * SQLite's writers are processes, not connections in one event loop (better-sqlite3 is
 * synchronous, so calls in one process cannot overlap): start them all, and once every one has
 * loaded, tell them to go together.
 */
async function migrateInProcesses(url: string, count: number): Promise<MigrateResult[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ["--import", "tsx", join(packageDir, "test/fixtures/migrate-on-signal.ts"), url], {
      cwd: packageDir,
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  const outputs = children.map((child) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve) => {
      const onData = (): void => {
        if (stdout.includes("ready\n")) {
          child.stdout.off("data", onData);
          resolve();
        }
      };
      child.stdout.on("data", onData);
    });
    const done = new Promise<MigrateResult>((resolve, reject) =>
      child.on("exit", (code) => {
        const line = stdout.split("\n").find((l) => l.startsWith("{"));
        if (code === 0 && line !== undefined) resolve(JSON.parse(line) as MigrateResult);
        else reject(new Error(`child exited ${code}: ${stderr}`));
      }),
    );
    return { child, ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const { child } of outputs) child.stdin.write("go\n");
  return Promise.all(outputs.map((o) => o.done));
}

describeMigrations({
  provider: "sqlite",
  newUrl,
  fresh: () => freshSqliteDatabase(),
  migrateConcurrently: migrateInProcesses,
});

describe("migrate on sqlite, specifically", () => {
  it("creates the database's folder and leaves the file in WAL mode", async () => {
    const url = newUrl();
    expect(existsSync(dirname(sqlitePathOf(url)))).toBe(false);
    await migrate(url);
    // A plain connection, not openDatabase() (which sets WAL itself): the mode is in the file.
    expect(await sql(url, "PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
  });

  it("keeps child rows when a migration redefines a parent table (PRAGMA foreign_keys=OFF inside a transaction is ignored)", async () => {
    const url = newUrl();
    const migrationsDir = copyOfMigrations();
    await migrate(url, { migrationsDir });
    const database = await openDatabase(url);
    try {
      const { db } = database;
      await db.user.create({ data: { id: "u", name: "U", email: "u@example.com" } });
      await db.runner.create({ data: { id: "r", name: "r", kind: "local" } });
      await db.environmentClass.create({ data: { id: "c", runnerId: "r", displayName: "c", description: "c", configuration: "[]" } });
      await db.environment.create({
        data: { id: "e", userId: "u", name: "e", contextUrl: "x", classId: "c", runnerId: "r", desiredPhase: "RUNNING", phase: "CREATING" },
      });
      await db.environmentLog.create({ data: { environmentId: "e", stream: "system", text: "hello" } });
    } finally {
      await database.close();
    }

    // What Prisma writes when a change needs SQLite to rebuild a table (e.g. a new NOT NULL column).
    const [table] = await sql(url, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'environment'`);
    const indexes = await sql(url, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'environment' AND sql IS NOT NULL`);
    const script = [
      "-- RedefineTables",
      "PRAGMA defer_foreign_keys=ON;",
      "PRAGMA foreign_keys=OFF;",
      `${String(table?.sql).replace('CREATE TABLE "environment"', 'CREATE TABLE "new_environment"')};`,
      `INSERT INTO "new_environment" SELECT * FROM "environment";`,
      `DROP TABLE "environment";`,
      `ALTER TABLE "new_environment" RENAME TO "environment";`,
      ...indexes.map((index) => `${String(index.sql)};`),
      "PRAGMA foreign_keys=ON;",
      "PRAGMA defer_foreign_keys=OFF;",
      "",
    ].join("\n");
    const folder = join(migrationsDir, "sqlite", "99990101000000_rebuild_environment");
    mkdirSync(folder);
    writeFileSync(join(folder, "migration.sql"), script);

    expect(await migrate(url, { migrationsDir })).toEqual({ provider: "sqlite", applied: ["99990101000000_rebuild_environment"] });
    expect(await sql(url, `SELECT text FROM environment_log`)).toEqual([{ text: "hello" }]);
    expect(await sql(url, "PRAGMA foreign_key_check")).toEqual([]);
  });

  it("refuses a migration that leaves rows violating foreign keys", async () => {
    const url = newUrl();
    const migrationsDir = copyOfMigrations();
    await migrate(url, { migrationsDir });
    const folder = join(migrationsDir, "sqlite", "99990101000000_orphan");
    mkdirSync(folder);
    writeFileSync(
      join(folder, "migration.sql"),
      `INSERT INTO "session" ("id", "expiresAt", "token", "updatedAt", "userId") VALUES ('s', 0, 't', 0, 'nobody');\n`,
    );
    await expect(migrate(url, { migrationsDir })).rejects.toThrow(/99990101000000_orphan would leave 1 row\(s\) violating foreign keys/);
    expect(await sql(url, `SELECT count(*) AS n FROM "session"`)).toEqual([{ n: 0 }]);
  });
});
