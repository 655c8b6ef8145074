// 2. Authentication cost: SQL statements per authenticated request (in-process API, every
// statement seen), and last-used writes per token per minute under steady and bursty use.
import { freshSqliteDatabase, type TestDatabase } from "@ona/db/testing";
import type { DatabaseProvider } from "@ona/db";
import type { Benchmark, BenchContext } from "../lib/context";
import { explain, kindOf, shortSql, tableOf } from "../lib/explain";
import { authHeaders, createToken, signUp, trpcQueryPath, type Credentials } from "../lib/http";
import { startInProcessApi, type CapturedQuery, type InProcessApi } from "../lib/inprocess";
import { freshPostgres } from "../lib/postgres";
import { codeBlock, verdictOf, type ResultRow, type SectionResult } from "../lib/report";

const AUTH_TABLES = new Set(["personal_access_token", "user", "session", "account", "rate_limit_auth_failure"]);
const MINUTE = 60_000;

interface PerRequest {
  statements: number;
  authReads: number;
  authWrites: number;
  auditWrites: number;
  other: number;
  /** Statements of one request, for the report. */
  sample: string[];
  /** The auth statements Prisma sent in one request (for the query plan). */
  authQueries: CapturedQuery[];
}

async function get(api: InProcessApi, path: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${api.url}${path}`, { headers });
  await response.arrayBuffer();
  return response.status;
}

/** Statements the API sends per request, averaged over `n` sequential requests after one warm-up. */
async function statementsPerRequest(api: InProcessApi, headers: Record<string, string>, n: number): Promise<PerRequest> {
  const path = trpcQueryPath("environment.list", { pageSize: 20 });
  await get(api, path, headers);
  // Let the fire-and-forget last-used write of the warm-up finish before counting.
  await new Promise((resolve) => setTimeout(resolve, 50));
  api.queries.clear();
  await get(api, path, headers);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // PostgreSQL: what went over the wire (Prisma's statements and the rate limiter's); SQLite: the database client's (Prisma and the hot-read path).
  const oneRequest = api.provider === "postgresql" ? [...api.queries.wire] : api.queries.client.map((q) => q.sql);
  const authQueries = api.queries.client.filter((q) => AUTH_TABLES.has(tableOf(q.sql)));
  api.queries.clear();
  for (let i = 0; i < n; i++) await get(api, path, headers);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const statements = api.provider === "postgresql" ? api.queries.wire : api.queries.client.map((q) => q.sql);
  const tally = { authReads: 0, authWrites: 0, auditWrites: 0, other: 0 };
  for (const sql of statements) {
    const table = tableOf(sql);
    const kind = kindOf(sql);
    if (AUTH_TABLES.has(table) && kind === "read") tally.authReads++;
    else if (AUTH_TABLES.has(table) && kind === "write") tally.authWrites++;
    else if (table === "audit_entry" && kind === "write") tally.auditWrites++;
    else tally.other++;
  }
  return {
    statements: statements.length / n,
    authReads: tally.authReads / n,
    authWrites: tally.authWrites / n,
    auditWrites: tally.auditWrites / n,
    other: tally.other / n,
    sample: oneRequest.map((sql) => shortSql(sql, 240)),
    authQueries,
  };
}

const isTokenStamp = (sql: string) => kindOf(sql) === "write" && tableOf(sql) === "personal_access_token";

/**
 * Last-used writes per token per minute: `perSecond` requests a second for `minutes` minutes of
 * the API's clock, one after another; then bursts of `burst` concurrent requests at each minute.
 */
async function lastUsedWrites(api: InProcessApi, token: string, minutes: number, perSecond: number, burst: number) {
  const path = trpcQueryPath("environment.list", { pageSize: 20 });
  const headers = { authorization: `Bearer ${token}` };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  api.clock.advance(2 * MINUTE);
  api.queries.clear();
  for (let i = 0; i < minutes * 60 * perSecond; i++) {
    await get(api, path, headers);
    api.clock.advance(1000 / perSecond);
  }
  await settle();
  const steady = api.queries.client.filter((q) => isTokenStamp(q.sql)).length / minutes;

  api.clock.advance(2 * MINUTE);
  api.queries.clear();
  const rounds = 3;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(Array.from({ length: burst }, () => get(api, path, headers)));
    await settle();
    api.clock.advance(MINUTE + 1);
  }
  const bursty = api.queries.client.filter((q) => isTokenStamp(q.sql)).length / rounds;
  return { steady, bursty };
}

const describe = (cost: PerRequest): string =>
  `${cost.statements.toFixed(2)} (auth ${cost.authReads.toFixed(2)} reads + ${cost.authWrites.toFixed(2)} writes` +
  `${cost.auditWrites > 0 ? `, audit ${cost.auditWrites.toFixed(2)} writes` : ""}; other ${cost.other.toFixed(2)})`;

async function measureProvider(context: BenchContext, provider: DatabaseProvider, rows: ResultRow[], details: string[]): Promise<void> {
  const database: TestDatabase = provider === "sqlite" ? await freshSqliteDatabase() : await freshPostgres();
  const api = await startInProcessApi(database.url);
  try {
    const account = await signUp(api.url, `bench-auth-${provider}@example.com`);
    const token = await createToken(api.url, account, "read-only");
    const n = context.quick ? 20 : 100;
    const variants: { label: string; credentials: Credentials | { raw: Record<string, string> }; target?: boolean }[] = [
      { label: "read-only token", credentials: { token: token.secret }, target: true },
      { label: "session cookie", credentials: { cookie: account.cookie } },
      { label: "malformed token (bad checksum)", credentials: { raw: { authorization: `Bearer ${token.secret.slice(0, -1)}${token.secret.endsWith("A") ? "B" : "A"}` } } },
    ];
    for (const variant of variants) {
      const headers = "raw" in variant.credentials ? variant.credentials.raw : authHeaders(variant.credentials);
      const cost = await statementsPerRequest(api, headers, n);
      const authOk = cost.authReads <= 1 && cost.authWrites === 0;
      rows.push({
        measurement: `${provider}: statements per request, ${variant.label}`,
        value: describe(cost),
        ...(variant.target ? { target: "auth: 1 indexed read, 0 writes", verdict: verdictOf(authOk) } : { verdict: "info" as const }),
      });
      details.push(`${provider}, ${variant.label}: the statements of one request (after warm-up):\n\n${codeBlock(cost.sample.join("\n") || "(none)", "sql")}`);
      if (variant.target) {
        for (const query of cost.authQueries) {
          details.push(`${provider}: plan of the token lookup \`${shortSql(query.sql, 160)}\`:\n\n${codeBlock(await explain(api.database.db, provider, query))}`);
        }
      }
    }
    const minutes = context.quick ? 2 : 5;
    const writes = await lastUsedWrites(api, token.secret, minutes, 10, 20);
    rows.push({
      measurement: `${provider}: last-used writes per token per minute, 10 req/s for ${minutes} min`,
      value: writes.steady.toFixed(2),
      target: "≤ 1",
      verdict: verdictOf(writes.steady <= 1),
    });
    rows.push({
      measurement: `${provider}: last-used UPDATEs per token per minute, bursts of 20 concurrent`,
      value: writes.bursty.toFixed(2),
      target: "≤ 1",
      verdict: verdictOf(writes.bursty <= 1),
    });
  } finally {
    await api.close();
    await database.drop();
  }
}

async function run(context: BenchContext): Promise<SectionResult> {
  const rows: ResultRow[] = [];
  const details: string[] = [
    "Counted in-process: the API as the web server wires it (createOnaApi behind node:http) with every statement its database client sends (Prisma's and the token lookup's hot path), and on " +
      "PostgreSQL every statement any pg client sends (the auth-failure rate limiter's included). `environment.list` itself is one read " +
      "(\"other\"). The clock is the API's injected clock, so minutes pass without waiting; bursts are 20 requests in flight at once " +
      "when the last-used stamp is due.",
  ];
  for (const provider of ["sqlite", "postgresql"] as const) {
    context.log(`  ${provider}`);
    await measureProvider(context, provider, rows, details);
  }
  return { id: "auth", title: "2. Authentication cost", rows, details };
}

export const authCost: Benchmark = { id: "auth", title: "Authentication cost", run };
