// Helpers shared by the db test suites: raw SQL on either provider (to look at what the
// migrations did, beneath the Prisma client), temp folders, and running the tools.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { providerOf, sqlitePathOf } from "../src/client";
import { defaultMigrationsDir } from "../src/migrate";

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
export const repoDir = join(packageDir, "../..");

export type Row = Record<string, unknown>;

/** Runs one statement (or, without params, a script) and returns the rows it produced. */
export async function sql(url: string, text: string, params: unknown[] = []): Promise<Row[]> {
  if (providerOf(url) === "sqlite") {
    const conn = new Database(sqlitePathOf(url));
    try {
      const statement = conn.prepare(text);
      if (statement.reader) return statement.all(...params) as Row[];
      statement.run(...params);
      return [];
    } finally {
      conn.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined); // a lost connection rejects the query instead
  await client.connect();
  try {
    return (await client.query<Row>(text, params)).rows;
  } finally {
    await client.end();
  }
}

const tempDirs: string[] = [];

export function tempDir(prefix = "ona-db-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A copy of the committed migrations that a test may change. */
export function copyOfMigrations(): string {
  const dir = join(tempDir("ona-migrations-"), "migrations");
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  return dir;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolveRun) => {
    execFile(file, args, { cwd: options.cwd ?? packageDir, env: options.env ?? process.env, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** node tooling/db-migrations/new-migration.mjs …args */
export function migrationTool(args: string[]): Promise<RunResult> {
  return run(process.execPath, [join(repoDir, "tooling/db-migrations/new-migration.mjs"), ...args], { cwd: repoDir });
}
