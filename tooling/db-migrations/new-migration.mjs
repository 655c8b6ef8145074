#!/usr/bin/env node
// Produces the migration SQL for both providers, offline.
//
//   pnpm db:migration <name>     write packages/db/migrations/<provider>/<timestamp>_<name>/migration.sql
//   node new-migration.mjs --check   exit 1 when a composed schema has changes without a migration
//   node new-migration.mjs --status file:<path>   Prisma 6's own `migrate status` on a SQLite database
//
// Why this tool exists: Prisma 7's `migrate dev`/`migrate diff` need its schema engine binary,
// which cannot be downloaded on these machines. Prisma 6 (pinned here) ships a wasm schema
// engine that runs through a driver adapter (`engine: "js"` in prisma.config.ts) and can diff
// two datamodels without any database. So each migration is the diff between the schema the
// previous migration was made from (kept as `schema.snapshot.prisma` next to the migrations)
// and the current composed schema. @ona/db applies the committed SQL itself (src/migrate.ts).
//
// Options: --migrations-dir DIR (default packages/db/migrations) writes/checks somewhere else.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const toolDir = dirname(fileURLToPath(import.meta.url));
const repoDir = resolve(toolDir, "../..");
const dbDir = join(repoDir, "packages/db");
// pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
const userCwd = process.env.INIT_CWD ?? process.cwd();
const shown = (file) => (relative(repoDir, file).startsWith("..") ? file : relative(repoDir, file));
const providers = ["sqlite", "postgresql"];
const SNAPSHOT = "schema.snapshot.prisma";
const LOCKFILE = "migration_lock.toml";
// Prisma 6 refuses a datasource without `url`; it is never connected to.
const placeholderUrls = { sqlite: "file:./unused.db", postgresql: "postgresql://unused@localhost/unused" };

function fail(message) {
  console.error(message);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { check: false, status: undefined, name: undefined, migrationsDir: join(dbDir, "migrations") };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") args.check = true;
    else if (arg === "--status") args.status = argv[++i] ?? fail("--status needs a file: URL");
    else if (arg === "--migrations-dir") args.migrationsDir = resolve(userCwd, argv[++i] ?? fail("--migrations-dir needs a folder"));
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: pnpm db:migration <name>  |  node new-migration.mjs --check  |  node new-migration.mjs --status file:<path>\n" +
          "       [--migrations-dir DIR]",
      );
      process.exit(0);
    } else if (arg.startsWith("-")) fail(`unknown option ${arg}`);
    else if (args.name === undefined) args.name = arg;
    else fail(`one migration name only (got "${args.name}" and "${arg}"); quote names with spaces`);
  }
  return args;
}

/** Prisma's folder names: `<UTC yyyymmddhhmmss>_<snake_case_name>`. */
function folderName(name, now = new Date()) {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
  if (slug === "") fail(`"${name}" is not a usable migration name: use letters and digits, e.g. add_token_scopes`);
  const stamp = now.toISOString().replace(/\D/g, "").slice(0, 14);
  return `${stamp}_${slug}`;
}

/**
 * A Prisma 7 schema made acceptable to Prisma 6: the generator block becomes a plain
 * `prisma-client-js` one with `engineType = "client"` (else Prisma 6 wants to download a query
 * engine) and the datasource gets the `url` that Prisma 6 requires. The models are untouched.
 */
function forPrisma6(schema, provider) {
  const generator = 'generator client {\n  provider   = "prisma-client-js"\n  engineType = "client"\n}';
  const withoutGenerators = schema.replace(/^generator\s+\w+\s*\{[^}]*\}/gm, "");
  const withUrl = withoutGenerators.replace(/^(datasource\s+\w+\s*\{)([^}]*)\}/m, (block, open, body) =>
    /^\s*url\s*=/m.test(body) ? block : `${open}${body}  url = "${placeholderUrls[provider]}"\n}`,
  );
  if (!/^datasource\s/m.test(withUrl)) throw new Error(`no datasource block in the ${provider} schema`);
  return `${generator}\n${withUrl}`;
}

function runPrisma(args, config = "prisma.config.ts", env = {}) {
  const require = createRequire(join(toolDir, "package.json"));
  const cli = require.resolve("prisma/build/index.js");
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [cli, ...args, "--config", join(toolDir, config)],
      {
        cwd: toolDir,
        env: { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1", NO_COLOR: "1", ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The SQL that takes a database from `fromSchema` (or empty) to `toSchema`, or "" when they
 * describe the same database. `--exit-code` says which (0 same, 2 different), so emptiness
 * does not depend on the wording of Prisma's "-- This is an empty migration." comment.
 */
async function diff(provider, fromSchema, toSchema, workDir) {
  const to = join(workDir, `${provider}.to.prisma`);
  const out = join(workDir, `${provider}.sql`);
  writeFileSync(to, forPrisma6(toSchema, provider));
  const from = ["--from-empty"];
  if (fromSchema !== undefined) {
    const fromFile = join(workDir, `${provider}.from.prisma`);
    writeFileSync(fromFile, forPrisma6(fromSchema, provider));
    from.splice(0, 1, "--from-schema-datamodel", fromFile);
  }
  const result = await runPrisma(["migrate", "diff", ...from, "--to-schema-datamodel", to, "--script", "--exit-code", "-o", out]);
  if (result.code === 0) return "";
  if (result.code === 2) return readFileSync(out, "utf8");
  throw new Error(`prisma migrate diff failed for ${provider}:\n${result.stderr}${result.stdout}`);
}

function readIfExists(file) {
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

/** Where each provider stands: the composed schema now and the one its last migration was made from. */
function loadState(migrationsDir) {
  return providers.map((provider) => {
    const schemaFile = join(dbDir, "prisma", provider, "schema.prisma");
    const current = readIfExists(schemaFile);
    if (current === undefined) fail(`${shown(schemaFile)} is missing: run pnpm --filter @ona/db generate`);
    const folder = join(migrationsDir, provider);
    const snapshot = readIfExists(join(folder, SNAPSHOT));
    const migrations = existsSync(folder) ? readdirSync(folder, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
    if (snapshot === undefined && migrations.length > 0) {
      fail(`${shown(join(folder, SNAPSHOT))} is missing but ${shown(folder)} holds migrations: restore it from version control`);
    }
    return { provider, current, snapshot, folder };
  });
}

/** Refuses to diff a composed schema that is older than models.prisma (generate was not run). */
async function ensureComposed() {
  const result = await new Promise((resolvePromise) =>
    execFile(process.execPath, [join(dbDir, "scripts/compose-schemas.mjs"), "--check"], (error, _stdout, stderr) =>
      resolvePromise({ ok: !error, stderr }),
    ),
  );
  if (!result.ok) fail(`${result.stderr.trim()}\nThe composed schemas are older than prisma/models.prisma: run pnpm --filter @ona/db generate first.`);
}

async function withWorkDir(fn) {
  const workDir = mkdtempSync(join(tmpdir(), "ona-db-migration-"));
  try {
    return await fn(workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function check(migrationsDir) {
  await ensureComposed();
  const state = loadState(migrationsDir);
  // Identical text needs no diff; otherwise ask Prisma, because a comment-only edit changes
  // the text but not the database and must not demand a migration.
  const pending = await withWorkDir((workDir) =>
    Promise.all(
      state.map(async (s) => ({ ...s, sql: s.current === s.snapshot ? "" : await diff(s.provider, s.snapshot, s.current, workDir) })),
    ),
  );
  const stale = pending.filter((p) => p.sql !== "");
  for (const p of stale) {
    console.error(`The ${p.provider} schema has changes without a migration:\n${p.sql}`);
  }
  if (stale.length > 0) {
    console.error("Create the migration with: pnpm db:migration <name>   (then commit packages/db/migrations)");
    process.exit(1);
  }
  console.log("Migrations are up to date with the schema (sqlite, postgresql).");
}

/**
 * The statements that throw data away. `prisma migrate dev` would stop and ask; here a warning
 * has to do. SQLite's table rebuilds drop the old table only after copying its rows into
 * "new_<table>", which loses nothing.
 */
function dataLosses(sql) {
  return sql
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => {
      if (/^ALTER TABLE .* DROP COLUMN/i.test(line)) return true;
      const dropped = /^DROP TABLE "([^"]+)"/i.exec(line)?.[1];
      return dropped !== undefined && !sql.includes(`CREATE TABLE "new_${dropped}"`);
    });
}

async function create(name, migrationsDir) {
  await ensureComposed();
  const folder = folderName(name);
  const state = loadState(migrationsDir);
  // Compute every diff before writing anything, so a failure leaves no half-made migration.
  const results = await withWorkDir((workDir) =>
    Promise.all(state.map(async (s) => ({ ...s, sql: await diff(s.provider, s.snapshot, s.current, workDir) }))),
  );
  const changed = results.filter((r) => r.sql !== "");
  if (changed.length === 0) {
    console.log("No schema changes since the last migration: nothing written.");
    return;
  }
  for (const r of changed) {
    const dir = join(r.folder, folder);
    if (existsSync(dir)) fail(`${shown(dir)} already exists`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "migration.sql"), r.sql);
    writeFileSync(join(r.folder, SNAPSHOT), r.current);
    const lockfile = join(r.folder, LOCKFILE);
    if (!existsSync(lockfile)) {
      // Word for word what `prisma migrate dev` writes.
      writeFileSync(
        lockfile,
        `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${r.provider}"\n`,
      );
    }
    console.log(`wrote ${shown(join(dir, "migration.sql"))}`);
    const losses = dataLosses(r.sql);
    if (losses.length > 0) console.log(`  warning: it deletes data (${losses.join(" ")}): make sure that is intended`);
  }
  for (const r of results.filter((x) => x.sql === "")) console.log(`${r.provider}: no changes, no migration`);
  console.log("Review the SQL, then commit packages/db/migrations with the schema change.");
}

/**
 * Prisma 6's `migrate status` on a SQLite database (exit 0 when Prisma considers it up to date):
 * evidence that the history @ona/db writes is the one Prisma would have written.
 */
async function status(url, migrationsDir) {
  if (!url.startsWith("file:")) fail("--status takes a SQLite file: URL (Prisma 6 here has no PostgreSQL adapter)");
  const path = resolve(userCwd, url.replace(/^file:(\/\/)?/, "").replace(/\?.*$/, ""));
  if (!existsSync(path)) fail(`${path} does not exist`);
  const result = await runPrisma(["migrate", "status"], "status.config.ts", {
    ONA_STATUS_SQLITE_PATH: path,
    ONA_STATUS_MIGRATIONS_DIR: join(migrationsDir, "sqlite"),
  });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exit(result.code);
}

const args = parseArgs(process.argv.slice(2));
try {
  if (args.status !== undefined) await status(args.status, args.migrationsDir);
  else if (args.check) await check(args.migrationsDir);
  else if (args.name === undefined) fail("usage: pnpm db:migration <name>   (e.g. pnpm db:migration add_token_scopes)");
  else await create(args.name, args.migrationsDir);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
