// `pnpm db:migrate` (or `pnpm --filter @ona/db db:migrate`): applies the committed migrations to
// DATABASE_URL. Errors print as one line — the message says what to do; a stack trace would not.
import { isAbsolute, resolve } from "node:path";
import { providerOf, sqlitePathOf } from "./client";
import { migrate } from "./migrate";

/**
 * pnpm runs this in packages/db, but a relative `file:` URL means the folder where the user
 * typed the command (INIT_CWD), so `DATABASE_URL=file:./dev.db pnpm db:migrate` at the root
 * migrates ./dev.db there.
 */
function absoluteUrl(url: string): string {
  if (providerOf(url) !== "sqlite") return url;
  const path = sqlitePathOf(url);
  return isAbsolute(path) ? url : `file:${resolve(process.env.INIT_CWD ?? process.cwd(), path)}`;
}

/** Where the database is, without the password. */
function describe(url: string): string {
  if (url.startsWith("file:")) return `SQLite database ${sqlitePathOf(url)}`;
  const parsed = new URL(url);
  return `PostgreSQL database ${parsed.pathname.slice(1)} at ${parsed.host}`;
}

function oneLine(error: unknown): string {
  // Node reports a refused connection to a name with several addresses as an AggregateError
  // with an empty message; its first cause says what happened.
  if (error instanceof AggregateError && error.message === "" && error.errors.length > 0) return oneLine(error.errors[0]);
  if (error instanceof TypeError && "code" in error && error.code === "ERR_INVALID_URL") return "DATABASE_URL is not a valid URL";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}

async function main(): Promise<void> {
  const raw = process.env.DATABASE_URL;
  if (raw === undefined || raw.trim() === "") {
    throw new Error("DATABASE_URL is not set: use file:./path.db (SQLite) or postgresql://user@host:port/db");
  }
  const url = absoluteUrl(raw.trim());
  const result = await migrate(url);
  if (result.applied.length === 0) {
    console.log(`${describe(url)}: database is up to date`);
    return;
  }
  console.log(`${describe(url)}: applied ${result.applied.length} migration(s)`);
  for (const name of result.applied) console.log(`  ${name}`);
}

main().catch((error: unknown) => {
  console.error(`db:migrate: ${oneLine(error)}`);
  process.exit(1);
});
