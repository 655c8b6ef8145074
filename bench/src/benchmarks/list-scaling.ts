// 5. List scaling: a page of 50 from environment.list and auditLog.list when the user has 100,
// 10 000 and 100 000 rows (seeded directly), on SQLite and PostgreSQL: the first page, the next
// one, a page in the middle and one near the end; the server's idle CPU at each size; the query plans of the
// statements the API sends.
import { Agent } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { openDatabase, type Database, type DatabaseProvider } from "@ona/db";
import type { Benchmark, BenchContext } from "../lib/context";
import { explain, shortSql, tableOf } from "../lib/explain";
import { createToken, signUp, timedGet, trpcQueryPath } from "../lib/http";
import { startInProcessApi } from "../lib/inprocess";
import { emptyPostgres } from "../lib/postgres";
import { idleCpu } from "../lib/processes";
import { codeBlock, verdictOf, type ResultRow, type SectionResult } from "../lib/report";
import { defaultEnvironmentClass, seedAuditEntries, seedEnvironments, seededCursor } from "../lib/seed";
import { startProductionServer, type ProductionServer } from "../lib/servers";
import { median, ms, percentile, times, timed } from "../lib/stats";

const SIZES = [100, 10_000, 100_000] as const;
const LARGEST = 100_000;
const PAGE_SIZE = 50;
const PROCEDURES = ["environment.list", "auditLog.list"] as const;
type Procedure = (typeof PROCEDURES)[number];
const PAGES = ["first", "second", "middle", "last"] as const;
type Page = (typeof PAGES)[number];

const PageResponse = z.object({ result: z.object({ data: z.object({ items: z.array(z.unknown()), nextToken: z.string().nullable() }) }) });

type Latency = Record<Page, number[]>;

interface DeepCursors {
  middle: string;
  last: string;
}

/** The page requests: page 1, page 2 (page 1's nextToken), the page after the middle row and the one before the last 100. */
async function pagePaths(url: string, procedure: Procedure, cursors: DeepCursors, headers: Record<string, string>, agent: Agent | false) {
  const firstPath = trpcQueryPath(procedure, { pageSize: PAGE_SIZE });
  const page = PageResponse.parse(JSON.parse((await timedGet(`${url}${firstPath}`, headers, agent)).body));
  if (page.result.data.items.length !== PAGE_SIZE || !page.result.data.nextToken) throw new Error(`${procedure} did not return a full page`);
  const paths: Record<Page, string> = {
    first: firstPath,
    second: trpcQueryPath(procedure, { pageSize: PAGE_SIZE, nextToken: page.result.data.nextToken }),
    middle: trpcQueryPath(procedure, { pageSize: PAGE_SIZE, nextToken: cursors.middle }),
    last: trpcQueryPath(procedure, { pageSize: PAGE_SIZE, nextToken: cursors.last }),
  };
  for (const page of ["middle", "last"] as const) {
    const deep = await timedGet(`${url}${paths[page]}`, headers, agent);
    const parsed = PageResponse.safeParse(JSON.parse(deep.body));
    if (!parsed.success || parsed.data.result.data.items.length !== PAGE_SIZE) {
      throw new Error(`${procedure}: the ${page} page token was not accepted (${deep.status}): has the cursor format changed?`);
    }
  }
  return paths;
}

async function measure(server: ProductionServer, token: string, procedure: Procedure, cursors: DeepCursors, requests: number): Promise<Latency> {
  // A new kept-alive connection per measurement: an idle one may have been closed by the server while seeding.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const headers = { authorization: `Bearer ${token}` };
    const paths = await pagePaths(server.url, procedure, cursors, headers, agent);
    const latency: Latency = { first: [], second: [], middle: [], last: [] };
    for (let i = 0; i < 20; i++) for (const page of PAGES) await timedGet(`${server.url}${paths[page]}`, headers, agent);
    for (let i = 0; i < requests; i++) {
      for (const page of PAGES) {
        const response = await timedGet(`${server.url}${paths[page]}`, headers, agent);
        if (response.status !== 200) throw new Error(`${procedure} (${page} page) answered ${response.status}`);
        latency[page].push(response.ms);
      }
    }
    return latency;
  } finally {
    agent.destroy();
  }
}

/** The statements the API sends for each page, captured in-process on the same database, with their plans. */
async function plans(
  server: ProductionServer,
  provider: DatabaseProvider,
  token: string,
  size: number,
  deepCursors: Record<Procedure, DeepCursors>,
): Promise<string[]> {
  const serverSecret = readFileSync(join(server.dataDir, "server-secret"), "utf8").trim();
  const api = await startInProcessApi(server.databaseUrl, { serverSecret });
  const out: string[] = [];
  try {
    const headers = { authorization: `Bearer ${token}` };
    for (const procedure of PROCEDURES) {
      const table = procedure === "environment.list" ? "environment" : "audit_entry";
      const paths = await pagePaths(api.url, procedure, deepCursors[procedure], headers, false);
      for (const page of PAGES) {
        api.queries.clear();
        await timedGet(`${api.url}${paths[page]}`, headers);
        for (const query of api.queries.client.filter((captured) => tableOf(captured.sql) === table)) {
          const plan = await explain(api.database.db, provider, query);
          out.push(`${provider}, ${procedure}, ${page} page, ${size.toLocaleString("en-US")} rows: \`${shortSql(query.sql, 600)}\`\n\n${codeBlock(plan)}`);
        }
      }
    }
  } finally {
    await api.close();
  }
  return out;
}

async function seedTo(database: Database, userId: string, from: number, to: number): Promise<void> {
  const environmentClass = await defaultEnvironmentClass(database.db);
  await seedEnvironments(database, { userId, classId: environmentClass.id, runnerId: environmentClass.runnerId, from, to });
  await seedAuditEntries(database, { userId, from, to });
  // PostgreSQL's autovacuum would analyze the tables after such a load; do it now rather than at a random moment.
  if (database.provider === "postgresql") await database.db.$executeRawUnsafe("ANALYZE environment, audit_entry");
}

const PAGE_LABEL: Record<Page, string> = { first: "page 1", second: "page 2", middle: "page at the middle row", last: "page before the last 100 rows" };

async function measureProvider(context: BenchContext, provider: DatabaseProvider, rows: ResultRow[], details: string[]): Promise<void> {
  const databaseUrl = provider === "postgresql" ? await emptyPostgres(`ona_bench_list_${process.pid}`) : undefined;
  const server = await startProductionServer(databaseUrl ? { databaseUrl } : {});
  try {
    // The first account is the admin; the measured user is a member, who sees their own rows.
    await signUp(server.url, `bench-admin-${provider}@example.com`, "Admin");
    const account = await signUp(server.url, `bench-list-${provider}@example.com`);
    const token = await createToken(server.url, account, "read-only");
    const database = await openDatabase(server.databaseUrl);
    const results = new Map<string, Latency>();
    const idle = new Map<number, number>();
    const deepCursors = {} as Record<Procedure, DeepCursors>;
    try {
      let seeded = 0;
      for (const size of SIZES) {
        const seeding = await timed(() => seedTo(database, account.userId, seeded, size));
        seeded = size;
        context.log(`  ${provider}: ${size} rows each (seeded in ${ms(seeding.ms)})`);
        idle.set(size, await idleCpu(server.pid, context.quick ? 3 : 10));
        for (const [procedure, table] of [["environment.list", "environment"], ["auditLog.list", "audit_entry"]] as const) {
          deepCursors[procedure] = {
            middle: await seededCursor(database, table, size / 2),
            last: await seededCursor(database, table, size - 100),
          };
        }
        for (const procedure of PROCEDURES) {
          const latency = await measure(server, token.secret, procedure, deepCursors[procedure], context.quick ? 30 : 100);
          results.set(`${procedure}@${size}`, latency);
          context.log(`    ${procedure}: p50 ${PAGES.map((page) => `${page} ${ms(median(latency[page]))}`).join(", ")}`);
        }
      }
      details.push(...(await plans(server, provider, token.secret, LARGEST, deepCursors)));
    } finally {
      await database.close();
    }
    for (const procedure of PROCEDURES) {
      const small = results.get(`${procedure}@${SIZES[0]}`);
      if (!small) continue;
      for (const page of PAGES) {
        const base = median(small[page]);
        for (const size of SIZES) {
          const latency = results.get(`${procedure}@${size}`);
          if (!latency) continue;
          const typical = median(latency[page]);
          const isLargest = size === LARGEST;
          rows.push({
            measurement: `${provider}: ${procedure}, ${PAGE_LABEL[page]} of ${PAGE_SIZE}, ${size.toLocaleString("en-US")} rows: p50 (p99)`,
            value: `${ms(typical)} (${ms(percentile(latency[page], 99))})`,
            ...(size === SIZES[0] ? {} : { baseline: `at ${SIZES[0]}: ${ms(base)}`, ratio: times(typical, base) }),
            ...(isLargest ? { target: "≤ 2×", verdict: verdictOf(typical <= 2 * base) } : { verdict: "info" as const }),
          });
        }
      }
    }
    const idleSmall = idle.get(SIZES[0]) ?? 0;
    for (const size of SIZES) {
      const value = idle.get(size) ?? 0;
      rows.push({
        measurement: `${provider}: idle server CPU with ${size.toLocaleString("en-US")} environments`,
        value: `${value.toFixed(0)} ms/s`,
        ...(size === SIZES[0] ? {} : { baseline: `at ${SIZES[0]}: ${idleSmall.toFixed(0)} ms/s`, ratio: times(value, Math.max(idleSmall, 1)) }),
        verdict: "info",
      });
    }
  } finally {
    await server.stop();
  }
}

async function run(context: BenchContext): Promise<SectionResult> {
  const rows: ResultRow[] = [];
  const details: string[] = [
    `Latency of one request on a kept-alive connection, measured by the benchmark (sequential, after 20 warm-up rounds): ` +
      `page 1, page 2 (page 1's nextToken), the page after the middle row and the page after row size − 100 (the page token the API ` +
      `would give after that row, built by the benchmark), in ` +
      `turn, ${context.quick ? 30 : 100} of each. The user is a member; the rows (stopped environments, and audit entries with the ` +
      "user as actor) are written directly into the production server's database. PostgreSQL is the throwaway server of " +
      "@ona/db/testing (fsync off), ANALYZEd after each load. Idle CPU: the server process's user + system time over " +
      `${context.quick ? 3 : 10} s with no requests (the embedded runner polls once a second).`,
  ];
  for (const provider of ["sqlite", "postgresql"] as const) await measureProvider(context, provider, rows, details);
  return { id: "list", title: "5. List scaling", rows, details };
}

export const listScaling: Benchmark = { id: "list", title: "List scaling", run };
