import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { TOKEN_PREFIX, TOKEN_RANDOM_LENGTH, type Environment, type ExecOutput } from "@ona/contracts";
import { openDatabase, sqlitePathOf } from "@ona/db";
import { startTestDatabases, testDatabaseProvider, type TestDatabase, type TestDatabases } from "@ona/db/testing";
import { AuthenticationError, createClient, OnaError } from "@ona/sdk";
import { makeCliHome, type CliHome, type OnaResult } from "../support/cli";
import { mutate, query, signUp, type CallResult, type SignedUpUser } from "../support/client";
import { makeRepository } from "../support/git";
import { startProductionServer, type ProductionServer } from "../support/production-server";
import { rawRequest } from "../support/raw-http";
import { removeDataDir } from "../support/repositories";
import { startTestServer, type TestServer } from "../support/server";
import { nearMissOf } from "../support/tokens";

/**
 * Uses tokens every way there is — right, wrong, revoked, expired, read-only on writes, in the
 * URL, tampered, guessed until 429, through the CLI, the SDK and exec in real environments —
 * against the in-process API and the production server (`node apps/web/dist/server.js`, with the
 * secret it generated itself), then searches everything that is kept: the databases (no
 * plaintext token anywhere), the servers' logs and output, the CLI's output, the audit rows,
 * every answer, what environments saw and left in their folders (no token and no token hash
 * either). The hashes searched for are computed here with node:crypto from the secret each server
 * really uses, so a leaked hash is found whatever the code computes.
 */
let databases: TestDatabases;
let server: TestServer;
let production: ProductionServer;
let productionDatabase: TestDatabase;
let productionDataDir: string;
let productionSecret: string;
let cli: CliHome;

/** Secrets issued by each server (the hash needles differ per server secret) and strings that merely look like tokens. */
const issued = { inProcess: [] as string[], production: [] as string[] };
const tampered: string[] = [];
const bodies: string[] = [];
const cliOutput: string[] = [];
const environmentsSeen: string[] = [];

const DAY = 24 * 60 * 60 * 1000;

/** HMAC-SHA-256 keyed with the server secret, as the README says tokens are stored; computed here, not by the code under test. */
const keyedHash = (serverSecret: string, token: string) => createHmac("sha256", serverSecret).update(token).digest("hex");

/** What must never show for a token: itself, its random part, the middle the hint does not show, and its hashes. */
function needlesOf(token: string, serverSecret: string | null): string[] {
  return [
    token,
    token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH),
    token.slice(TOKEN_PREFIX.length + 4, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH - 4),
    createHash("sha256").update(token).digest("hex"),
    ...(serverSecret ? [keyedHash(serverSecret, token)] : []),
  ];
}

/** Every needle of every token used, with each server's real secret; `withHashes` false for the token table's own copy. */
function allNeedles(withHashes: boolean): string[] {
  const secretOf = (serverSecret: string) => (withHashes ? serverSecret : null);
  return [
    ...issued.inProcess.flatMap((token) => needlesOf(token, secretOf(server.api.deps.config.serverSecret))),
    ...issued.production.flatMap((token) => needlesOf(token, secretOf(productionSecret))),
    ...tampered.flatMap((token) => needlesOf(token, null)),
  ];
}

function expectNoNeedle(haystack: string, needles: string[], where: string) {
  expect(haystack.length, `${where} is empty: nothing was searched`).toBeGreaterThan(0);
  const found = needles.filter((needle) => haystack.includes(needle));
  expect(found.map((needle) => `${needle.slice(0, 12)}…`), `found in ${where}`).toEqual([]);
}

function tamper(secret: string): string[] {
  return [secret.slice(0, -1), `${secret}x`, `${secret.slice(0, 20)}Z${secret.slice(21)}`, secret.toUpperCase(), nearMissOf(secret, 7)];
}

const track = (result: CallResult) => {
  bodies.push(result.text);
  return result;
};

async function createTokenFor(base: string, user: SignedUpUser, accessLevel: "read-only" | "read-write", into: string[]): Promise<string> {
  const result = await mutate(base, "token.create", { description: `leak ${accessLevel}`, expiresInDays: 30, accessLevel }, { cookie: user.cookie });
  expect(result.status, result.text).toBe(200);
  const secret = (result.data as { secret: string }).secret;
  into.push(secret);
  return secret;
}

/** Every way of using tokens that only needs the API. */
async function exerciseApi(base: string, into: string[], clock?: { advance(ms: number): void; reset(): void }) {
  const user = await signUp(base);
  const readOnly = await createTokenFor(base, user, "read-only", into);
  const readWrite = await createTokenFor(base, user, "read-write", into);
  const repository = makeRepository();
  track(await query(base, "identity.whoami", undefined, { token: readOnly }));
  track(await query(base, "token.list", {}, { token: readOnly }));
  track(await query(base, "auditLog.list", {}, { token: readOnly }));
  track(await mutate(base, "environment.create", { contextUrl: repository }, { token: readOnly }));
  track(await mutate(base, "environment.create", { contextUrl: `${repository}-missing` }, { token: readWrite }));
  track(await mutate(base, "token.create", { description: "x", expiresInDays: 30, accessLevel: "read-write" }, { token: readWrite }));
  for (const bad of [...tamper(readOnly), ...tamper(readWrite)]) {
    tampered.push(bad);
    track(await query(base, "identity.whoami", undefined, { token: bad }));
    track(await mutate(base, "token.revoke", { id: "x" }, { token: bad }));
  }
  const inUrl = await rawRequest(`${base}/api/trpc/identity.whoami?access_token=${readWrite}`);
  bodies.push(inUrl.body);
  const list = await query(base, "token.list", {}, { cookie: user.cookie });
  for (const { id } of (list.data as { items: { id: string }[] }).items) track(await mutate(base, "token.revoke", { id }, { token: readWrite }));
  track(await query(base, "identity.whoami", undefined, { token: readWrite }));
  if (clock) {
    const expiring = await createTokenFor(base, user, "read-write", into);
    clock.advance(31 * DAY);
    try {
      track(await query(base, "identity.whoami", undefined, { token: expiring }));
    } finally {
      clock.reset();
    }
  }
}

/** Near-misses of a real token from one address until the limit answers 429, then the real token from there. */
async function exerciseRateLimit(base: string, user: SignedUpUser, into: string[]) {
  const secret = await createTokenFor(base, user, "read-write", into);
  const statuses: number[] = [];
  for (let i = 0; i < 35; i++) {
    const guess = nearMissOf(secret, i);
    tampered.push(guess);
    const response = await rawRequest(`${base}/api/trpc/identity.whoami`, { localAddress: "127.0.0.77", headers: { authorization: `Bearer ${guess}` } });
    bodies.push(response.body);
    statuses.push(response.status);
  }
  const refused = await rawRequest(`${base}/api/trpc/identity.whoami`, { localAddress: "127.0.0.77", headers: { authorization: `Bearer ${secret}` } });
  bodies.push(refused.body);
  expect(statuses.slice(-1)).toEqual([429]);
  expect(refused.status).toBe(429);
}

/** The CLI, the SDK and exec in a real environment, against the production server. */
async function exerciseClientsAndEnvironments(base: string, user: SignedUpUser, into: string[]) {
  const token = await createTokenFor(base, user, "read-write", into);
  // A repository whose setup prints every variable it gets and leaves them in a file.
  const repository = makeRepository({ "README.md": "# leak test\n", ".ona/setup.sh": "#!/bin/sh\nenv\nenv > .setup-env\n" });

  const run = async (args: string[], env: Record<string, string> = {}): Promise<OnaResult> => {
    const result = await cli.ona(["--host", base, "--verbose", ...args], { env });
    cliOutput.push(result.stdout, result.stderr);
    return result;
  };
  expect((await run(["login", "--token", token])).code).toBe(0);
  const created = await run(["environment", "create", repository, "--name", "leaky", "-o", "json"]);
  expect(created.code, created.stderr).toBe(0);
  const environment = JSON.parse(created.stdout) as Environment;
  const exec = await run(["environment", "exec", environment.id, "--", "sh", "-c", "env; cat .setup-env"]);
  expect(exec.code, exec.stderr).toBe(0);
  environmentsSeen.push(exec.stdout);
  expect((await run(["environment", "logs", environment.id])).code).toBe(0);
  expect((await run(["environment", "list", "-o", "yaml"])).code).toBe(0);
  expect((await run(["token", "list"])).code).toBe(0);
  expect((await run(["audit-logs", "--limit", "50"])).code).toBe(0);
  // The token in the environment too (ONA_TOKEN), and a mistyped one.
  expect((await run(["whoami"], { ONA_TOKEN: token })).code).toBe(0);
  const mistyped = tamper(token)[2] ?? "";
  tampered.push(mistyped);
  expect((await run(["whoami", "--token", mistyped])).code).toBe(4);

  const sdk = createClient({ host: base, token });
  await sdk.identity.whoami();
  const listed = await sdk.environments.list({});
  bodies.push(JSON.stringify(listed));
  const output: ExecOutput = await sdk.environments.exec({ id: environment.id, command: ["sh", "-c", "env; cat /proc/self/environ | tr '\\0' '\\n'"] });
  environmentsSeen.push(output.stdout, output.stderr);
  const nearMiss = nearMissOf(token, 11);
  tampered.push(nearMiss);
  const failure = await createClient({ host: base, token: nearMiss })
    .identity.whoami()
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(AuthenticationError);
  bodies.push(String(failure), JSON.stringify(failure), failure instanceof OnaError ? (failure.stack ?? "") : "");
}

async function databaseText(url: string): Promise<string> {
  if (url.startsWith("file:")) {
    const path = sqlitePathOf(url);
    return ["", "-wal", "-shm"]
      .map((suffix) => `${path}${suffix}`)
      .filter((file) => {
        try {
          return statSync(file).isFile();
        } catch {
          return false;
        }
      })
      .map((file) => readFileSync(file).toString("latin1"))
      .join("\n");
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    const dumps: string[] = [];
    for (const { tablename } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      dumps.push(...rows.rows.map((r) => r.row));
    }
    return dumps.join("\n");
  } finally {
    await client.end();
  }
}

async function auditRowsOf(url: string): Promise<string> {
  const database = await openDatabase(url);
  try {
    return JSON.stringify(await database.db.auditEntry.findMany());
  } finally {
    await database.close();
  }
}

/**
 * Every file under `dir`. An environment's disk image (when the runner has loop devices) is left
 * out: its files are read through its mount point, the environment's folder, which the walk reads.
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name !== "disk.img")
    .map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  databases = await startTestDatabases();
  cli = makeCliHome();
  server = await startTestServer({ databases });
  await exerciseApi(server.url, issued.inProcess, server.clock);
  await exerciseRateLimit(server.url, await signUp(server.url), issued.inProcess);

  productionDatabase = await databases.fresh();
  productionDataDir = mkdtempSync(join(tmpdir(), "ona-leaks-"));
  // No ONA_SECRET: the server generates its own into the data folder, as `npm run up` does.
  production = await startProductionServer({ database: productionDatabase, dataDir: productionDataDir });
  productionSecret = readFileSync(join(productionDataDir, "server-secret"), "utf8").trim();
  await exerciseApi(production.url, issued.production);
  const user = await signUp(production.url);
  await exerciseClientsAndEnvironments(production.url, user, issued.production);
  await exerciseRateLimit(production.url, user, issued.production);
}, 300_000);

afterAll(async () => {
  await production?.stop();
  if (productionDataDir) await removeDataDir(productionDataDir);
  await server?.close();
  await databases?.stop();
  cli?.remove();
});

describe(`no secret leaks (${testDatabaseProvider()})`, () => {
  it("exercised enough to mean something", () => {
    expect([issued.inProcess.length, issued.production.length]).toEqual([4, 4]);
    expect(tampered.length).toBeGreaterThanOrEqual(80);
    expect(productionSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(productionSecret).not.toBe(server.api.deps.config.serverSecret);
    expect(environmentsSeen.join("").length).toBeGreaterThan(100);
  });

  it("stores each token as HMAC-SHA-256 keyed with its server's own secret, and no plaintext anywhere in the databases", async () => {
    await production.stop();
    const inProcessText = await databaseText(server.databaseUrl);
    const productionText = await databaseText(productionDatabase.url);
    expectNoNeedle(inProcessText + productionText, allNeedles(false), "the databases");
    for (const token of issued.inProcess) expect(inProcessText).toContain(keyedHash(server.api.deps.config.serverSecret, token));
    for (const token of issued.production) expect(productionText).toContain(keyedHash(productionSecret, token));
  });

  it("writes no token and no hash to either server's audit log", async () => {
    const rows = (await auditRowsOf(server.databaseUrl)) + (await auditRowsOf(productionDatabase.url));
    expect(rows.length).toBeGreaterThan(5000);
    expectNoNeedle(rows, allNeedles(true), "the audit rows");
  });

  it("logs no token and no hash, in either server or the CLI", () => {
    expect(production.output()).toContain("listening");
    expectNoNeedle(JSON.stringify(server.logs) + production.output(), allNeedles(true), "the servers' logs");
    expectNoNeedle(cliOutput.join("\n"), allNeedles(true), "the CLI's stdout and stderr");
  });

  it("answers with no token and no hash in any body but token.create's, including 429s and the SDK's errors", () => {
    expectNoNeedle(bodies.join("\n"), allNeedles(true), "the answers");
  });

  it("gives environments no token: not in their variables, their output, their logs or their folders", () => {
    expectNoNeedle(environmentsSeen.join("\n"), allNeedles(true), "what exec showed of the environment");
    const files = filesUnder(productionDataDir).filter((file) => !file.endsWith("server-secret"));
    expect(files.some((file) => file.endsWith(".setup-env")), "the setup's dump of its variables is searched").toBe(true);
    const text = files.map((file) => readFileSync(file).toString("latin1")).join("\n");
    expectNoNeedle(text, allNeedles(true), `the ${files.length} files of the production data folder`);
  });
});
