import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { TOKEN_PREFIX, TOKEN_RANDOM_LENGTH } from "@ona/contracts";
import { hashToken } from "@ona/api";
import { sqlitePathOf } from "@ona/db";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { mutate, query, signUp, type CallResult } from "../support/client";
import { makeRepository } from "../support/git";
import { startProductionServer, type ProductionServer } from "../support/production-server";
import { startTestServer, type TestServer } from "../support/server";

/**
 * Uses tokens every way there is — right, wrong, revoked, expired, read-only on writes, in the
 * URL, tampered — against the in-process API and the production server, then searches
 * everything that is kept: the database (no plaintext token anywhere), the server's logs and
 * output, the audit rows and every error body (no token and no token hash either).
 */
let databases: TestDatabases;
let server: TestServer;
let production: ProductionServer;
let productionDatabaseUrl: string;
let productionDataDir: string;
const secrets: string[] = [];
const bodies: CallResult[] = [];

const DAY = 24 * 60 * 60 * 1000;

/** What must never show: each secret, its random part alone, and (outside the token table) its hash. */
function needles(serverSecret: string | null): string[] {
  return secrets.flatMap((secret) => [
    secret,
    secret.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH),
    // The middle of the random part: what the hint does not show.
    secret.slice(TOKEN_PREFIX.length + 4, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH - 4),
    ...(serverSecret ? [hashToken(serverSecret, secret)] : []),
  ]);
}

function tamper(secret: string): string[] {
  return [secret.slice(0, -1), `${secret}x`, `${secret.slice(0, 20)}Z${secret.slice(21)}`, secret.toUpperCase()];
}

async function exercise(base: string, onResult: (result: CallResult) => void, clock?: { advance(ms: number): void; reset(): void }) {
  const user = await signUp(base);
  const track = (result: CallResult) => {
    bodies.push(result);
    onResult(result);
    return result;
  };
  const created: string[] = [];
  for (const accessLevel of ["read-only", "read-write"] as const) {
    const result = await mutate(base, "token.create", { description: `leak ${accessLevel}`, expiresInDays: 30, accessLevel }, { cookie: user.cookie });
    const secret = (result.data as { secret: string }).secret;
    secrets.push(secret);
    created.push(secret);
  }
  const [readOnly = "", readWrite = ""] = created;
  const repository = makeRepository();
  track(await query(base, "identity.whoami", undefined, { token: readOnly }));
  track(await query(base, "token.list", {}, { token: readOnly }));
  track(await mutate(base, "environment.create", { contextUrl: repository }, { token: readOnly }));
  track(await mutate(base, "environment.create", { contextUrl: `${repository}-missing` }, { token: readWrite }));
  track(await mutate(base, "token.create", { description: "x", expiresInDays: 30, accessLevel: "read-write" }, { token: readWrite }));
  for (const bad of [...tamper(readOnly), ...tamper(readWrite)]) {
    secrets.push(bad);
    track(await query(base, "identity.whoami", undefined, { token: bad }));
  }
  const inUrl = await fetch(`${base}/api/trpc/identity.whoami?access_token=${readWrite}`);
  bodies.push({ status: inUrl.status, headers: inUrl.headers, body: null, text: await inUrl.text(), data: undefined, error: undefined });
  const list = await query(base, "token.list", {}, { cookie: user.cookie });
  const ids = (list.data as { items: { id: string }[] }).items.map((t) => t.id);
  for (const id of ids) track(await mutate(base, "token.revoke", { id }, { token: readWrite }));
  track(await query(base, "identity.whoami", undefined, { token: readWrite }));
  if (clock) {
    const result = await mutate(base, "token.create", { description: "soon expired", expiresInDays: 30, accessLevel: "read-write" }, { cookie: user.cookie });
    const expiring = (result.data as { secret: string }).secret;
    secrets.push(expiring);
    clock.advance(31 * DAY);
    try {
      track(await query(base, "identity.whoami", undefined, { token: expiring }));
    } finally {
      clock.reset();
    }
  }
}

async function databaseText(url: string): Promise<string> {
  if (url.startsWith("file:")) {
    const path = sqlitePathOf(url);
    return ["", "-wal", "-shm"]
      .map((suffix) => `${path}${suffix}`)
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file).toString("latin1"))
      .join("\n");
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    const dumps: string[] = [];
    for (const { tablename } of tables.rows) {
      const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      dumps.push(...rows.rows.map((r: { row: string }) => r.row));
    }
    return dumps.join("\n");
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases });
  await exercise(server.url, () => undefined, server.clock);
  const productionDatabase = await databases.fresh();
  productionDatabaseUrl = productionDatabase.url;
  productionDataDir = mkdtempSync(join(tmpdir(), "ona-leaks-"));
  production = await startProductionServer({ database: productionDatabase, dataDir: productionDataDir });
  await exercise(production.url, () => undefined);
});

afterAll(async () => {
  await production?.stop();
  if (productionDataDir) rmSync(productionDataDir, { recursive: true, force: true });
  await server?.close();
  await databases?.stop();
});

describe(`no secret leaks (${testDatabaseProvider()})`, () => {
  it("exercised enough to mean something", () => {
    expect(secrets.length).toBeGreaterThanOrEqual(20);
    expect(bodies.filter((b) => b.status >= 400).length).toBeGreaterThan(20);
  });

  it("keeps no plaintext token in the database", async () => {
    await production.stop();
    const text = (await databaseText(server.databaseUrl)) + (await databaseText(productionDatabaseUrl));
    for (const needle of needles(null)) expect(text.includes(needle), needle.slice(0, 12)).toBe(false);
    // The hash is there: that is what the lookup uses.
    expect(text).toContain(hashToken(server.api.deps.config.serverSecret, secrets[0] ?? ""));
  });

  it("writes no token and no hash to the audit log", async () => {
    const rows = JSON.stringify(await server.database.db.auditEntry.findMany());
    expect(rows.length).toBeGreaterThan(1000);
    for (const needle of needles(server.api.deps.config.serverSecret)) expect(rows.includes(needle), needle.slice(0, 12)).toBe(false);
  });

  it("logs no token and no hash", () => {
    const logs = JSON.stringify(server.logs) + production.output();
    expect(production.output()).toContain("listening");
    for (const needle of needles(server.api.deps.config.serverSecret)) expect(logs.includes(needle), needle.slice(0, 12)).toBe(false);
  });

  it("answers with no token and no hash in any body but token.create's", () => {
    const text = bodies.map((b) => b.text).join("\n");
    for (const needle of needles(server.api.deps.config.serverSecret)) expect(text.includes(needle), needle.slice(0, 12)).toBe(false);
  });

  it("leaves no token in the environment folders or data directory files", () => {
    const files = readdirSync(productionDataDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.endsWith(".db") && !entry.name.includes(".db-"))
      .map((entry) => readFileSync(`${entry.parentPath}/${entry.name}`).toString("latin1"))
      .join("\n");
    for (const needle of needles(null)) expect(files.includes(needle), needle.slice(0, 12)).toBe(false);
  });
});
