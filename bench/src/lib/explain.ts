// Query plans of the statements Prisma actually sent (captured by the in-process API).
import type { Db, DatabaseProvider } from "@ona/db";
import { z } from "zod";
import type { CapturedQuery } from "./inprocess";

/** Prisma reports bound values as strings; small integers go back to numbers (LIMIT/OFFSET). */
function paramsOf(query: CapturedQuery): unknown[] {
  const parsed: unknown = JSON.parse(query.params || "[]");
  if (!Array.isArray(parsed)) return [];
  return parsed.map((value: unknown) => (typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : value));
}

const SqlitePlanRow = z.object({ id: z.coerce.number(), parent: z.coerce.number(), detail: z.string() });
const PostgresPlanRow = z.object({ "QUERY PLAN": z.string() });

/** SQLite: EXPLAIN QUERY PLAN as an indented tree. PostgreSQL: EXPLAIN (ANALYZE, BUFFERS). */
export async function explain(db: Db, provider: DatabaseProvider, query: CapturedQuery): Promise<string> {
  const params = paramsOf(query);
  if (provider === "sqlite") {
    const rows = z.array(SqlitePlanRow).parse(await db.$queryRawUnsafe(`EXPLAIN QUERY PLAN ${query.sql}`, ...params));
    const depth = new Map<number, number>([[0, 0]]);
    return rows
      .map((row) => {
        const level = (depth.get(row.parent) ?? 0) + 1;
        depth.set(row.id, level);
        return `${"  ".repeat(level - 1)}${row.detail}`;
      })
      .join("\n");
  }
  const rows = z.array(PostgresPlanRow).parse(await db.$queryRawUnsafe(`EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`, ...params));
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}

/** A statement shortened for a report: the column list collapsed, identifiers unquoted. */
export function shortSql(sql: string, max = 400): string {
  const collapsed = sql
    .replace(/`main`\./g, "")
    .replace(/"public"\./g, "")
    .replace(/SELECT (.+?) FROM/s, (_match, columns: string) => `SELECT ${columns.split(",").length > 3 ? "…" : columns} FROM`)
    .replace(/\s+/g, " ");
  return collapsed.length > max ? `${collapsed.slice(0, max)}…` : collapsed;
}

export type StatementKind = "read" | "write" | "other";

export function kindOf(sql: string): StatementKind {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "";
  if (verb === "SELECT" || verb === "WITH") return "read";
  if (verb === "INSERT" || verb === "UPDATE" || verb === "DELETE") return "write";
  return "other";
}

const TABLES = ["personal_access_token", "user", "session", "account", "rate_limit_auth_failure", "environment_class", "environment", "audit_entry"];

/** The first table a statement names (after FROM, INTO or UPDATE). */
export function tableOf(sql: string): string {
  const match = /(?:FROM|INTO|UPDATE)\s+(?:[`"]?\w+[`"]?\.)?[`"]?(\w+)[`"]?/i.exec(sql);
  const name = match?.[1] ?? "";
  return TABLES.includes(name) ? name : name || "?";
}
