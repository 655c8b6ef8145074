// Rows written straight into the database (not through the API), for list and load benchmarks:
// one INSERT … SELECT over a generated series per call, so 100 000 rows take a second or two.
import type { Database, Db } from "@ona/db";

/** Seeded rows are older than anything the API writes during the run, one second apart. */
const SEED_EPOCH_SECONDS = Date.parse("2025-01-01T00:00:00Z") / 1000;

/**
 * The page token the API would hand out after seeded row `x - 1` (rows x, x + 1, … follow),
 * encoded the way the API encodes its own (base64url of [createdAt, id], see packages/api
 * pagination.ts), so a deep page can be read without paging through all the rows before it.
 */
export async function seededCursor(database: Database, table: "environment" | "audit_entry", x: number): Promise<string> {
  if (x <= 0) return Buffer.from(JSON.stringify([new Date((SEED_EPOCH_SECONDS + 1) * 1000).toISOString(), ""])).toString("base64url");
  const prefix = `${table === "environment" ? "cbenv" : "cbaud"}${String(x - 1).padStart(7, "0")}`;
  const where = { id: { startsWith: prefix } };
  const select = { id: true, createdAt: true } as const;
  const row = table === "environment" ? await database.db.environment.findFirst({ where, select }) : await database.db.auditEntry.findFirst({ where, select });
  if (!row) throw new Error(`seeded row ${prefix}… not found`);
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString("base64url");
}

export async function defaultEnvironmentClass(db: Db): Promise<{ id: string; runnerId: string }> {
  const found = await db.environmentClass.findFirst({ where: { enabled: true }, orderBy: [{ position: "asc" }, { id: "asc" }] });
  if (!found) throw new Error("no environment class: is the embedded runner running?");
  return { id: found.id, runnerId: found.runnerId };
}

/**
 * The rows x = from … to - 1 of a series, with id prefix + x (7 digits) + 12 random hex digits
 * and a timestamp `x` seconds before the epoch above, in the format Prisma writes on each provider
 * (SQLite: ISO text with +00:00; PostgreSQL: timestamp(3)).
 */
function series(provider: Database["provider"], prefix: string): { sql: string; params: (from: number, to: number) => number[] } {
  if (provider === "sqlite") {
    return {
      sql:
        `WITH RECURSIVE seq(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM seq WHERE x + 1 < ?) ` +
        `SELECT x, printf('${prefix}%07d', x) || lower(hex(randomblob(6))) AS id, ` +
        `strftime('%Y-%m-%dT%H:%M:%f', ${SEED_EPOCH_SECONDS} - x, 'unixepoch') || '+00:00' AS ts FROM seq`,
      params: (from, to) => [from, to],
    };
  }
  return {
    sql:
      `SELECT x, '${prefix}' || lpad(x::text, 7, '0') || substr(md5(random()::text), 1, 12) AS id, ` +
      `to_timestamp(${SEED_EPOCH_SECONDS} - x) AT TIME ZONE 'UTC' AS ts FROM generate_series($1::int, $2::int - 1) AS x`,
    params: (from, to) => [from, to],
  };
}

/** Numbered placeholders for PostgreSQL, `?` for SQLite, starting after the series' own two. */
const placeholder = (provider: Database["provider"], index: number): string => (provider === "sqlite" ? "?" : `$${index + 3}`);

/**
 * Environments of one user, stopped and meant to stay stopped (so the runner has nothing to do
 * with them), numbered from `from` to `to` - 1.
 */
export async function seedEnvironments(
  database: Database,
  options: { userId: string; classId: string; runnerId: string; from: number; to: number },
): Promise<void> {
  if (options.to <= options.from) return;
  const { provider } = database;
  const source = series(provider, "cbenv");
  const p = (index: number) => placeholder(provider, index);
  const columns = `"id", "userId", "name", "contextUrl", "classId", "runnerId", "desiredPhase", "specVersion", "phase", "statusVersion", "createdAt", "updatedAt", "lastStartedAt"`;
  const select =
    `SELECT s.id, ${p(0)}, 'seeded-' || s.x, 'https://github.com/example/seeded.git', ${p(1)}, ${p(2)}, ` +
    `'ENVIRONMENT_PHASE_STOPPED', 1, 'ENVIRONMENT_PHASE_STOPPED', 3, s.ts, s.ts, s.ts FROM (${source.sql}) AS s`;
  // SQLite binds `?` in textual order: the select list's three, then the series' two (inside the subquery).
  const sql = `INSERT INTO "environment" (${columns}) ${select}`;
  const params =
    provider === "sqlite"
      ? [options.userId, options.classId, options.runnerId, ...source.params(options.from, options.to)]
      : [...source.params(options.from, options.to), options.userId, options.classId, options.runnerId];
  await database.db.$executeRawUnsafe(sql, ...params);
}

/** Audit entries whose actor is the user (what they see in their audit log), numbered like seedEnvironments. */
export async function seedAuditEntries(database: Database, options: { userId: string; from: number; to: number }): Promise<void> {
  if (options.to <= options.from) return;
  const { provider } = database;
  const source = series(provider, "cbaud");
  const p = (index: number) => placeholder(provider, index);
  const columns = `"id", "createdAt", "actorId", "actorPrincipal", "tokenId", "action", "subjectType", "subjectId", "outcome", "ip", "userAgent"`;
  const action = `CASE s.x % 4 WHEN 0 THEN 'environment.create' WHEN 1 THEN 'environment.start' WHEN 2 THEN 'environment.stop' ELSE 'token.revoke' END`;
  const select =
    `SELECT s.id, s.ts, ${p(0)}, 'user', NULL, ${action}, 'environment', 'cbenv' || s.x, 'success', '127.0.0.1', 'bench' ` +
    `FROM (${source.sql}) AS s`;
  const sql = `INSERT INTO "audit_entry" (${columns}) ${select}`;
  const params =
    provider === "sqlite"
      ? [options.userId, ...source.params(options.from, options.to)]
      : [...source.params(options.from, options.to), options.userId];
  await database.db.$executeRawUnsafe(sql, ...params);
}
