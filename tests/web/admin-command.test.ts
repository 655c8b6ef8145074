import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTokenFormat } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabase, type TestDatabases } from "@ona/db/testing";
import { query } from "../support/client";
import { REPO_ROOT, startProductionServer, type ProductionServer } from "../support/production-server";

/** `pnpm ona-admin …` as operators run it: the built command against the server's database. */
let databases: TestDatabases;
let database: TestDatabase;
let dataDir: string;
let server: ProductionServer;

function admin(args: string[], input = "") {
  const result = spawnSync("pnpm", ["--silent", "ona-admin", ...args], {
    cwd: REPO_ROOT,
    input,
    encoding: "utf8",
    env: { ...process.env, ONA_DATA_DIR: dataDir, DATABASE_URL: database.url },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  databases = await startTestDatabases();
  database = await databases.fresh();
  dataDir = mkdtempSync(join(tmpdir(), "ona-admin-"));
  server = await startProductionServer({ database, dataDir });
});

afterAll(async () => {
  if (process.env.ONA_DEBUG) console.log(server?.output());
  await server?.stop();
  await databases?.stop();
});

describe(`ona-admin (${testDatabaseProvider()})`, () => {
  it("creates users (password from stdin) and lists them", () => {
    const created = admin(["user", "create", "--email", "ops@example.com", "--name", "Ops", "--admin"], "a long password\n");
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ email: "ops@example.com", role: "admin" });
    expect(admin(["user", "create", "--email", "dev@example.com", "--name", "Dev"], "another password").status).toBe(0);
    const listed = admin(["user", "list"]);
    expect(listed.stdout).toMatch(/ops@example.com\tOps\tadmin/);
    expect(listed.stdout).toMatch(/dev@example.com\tDev\tmember/);
  });

  it("prints only the token, which works against the server until revoked", async () => {
    const created = admin(["token", "create", "--email", "dev@example.com", "--description", "CI bootstrap", "--expires-in", "30", "--access-level", "read-write"]);
    expect(created.status, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(checkTokenFormat(token).ok).toBe(true);
    expect(created.stdout).toBe(`${token}\n`);
    expect(created.stderr).not.toContain(token);

    const me = await query(server.url, "identity.whoami", undefined, { token });
    expect(me.data).toMatchObject({ user: { email: "dev@example.com" }, token: { accessLevel: "read-write" } });
    const tokenId = (me.data as { token: { id: string } }).token.id;

    const revoked = admin(["token", "revoke", tokenId]);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect((await query(server.url, "identity.whoami", undefined, { token })).status).toBe(401);

    const audit = await query(server.url, "auditLog.list", { subjectId: tokenId }, { token: admin(["token", "create", "--email", "ops@example.com", "--description", "audit reader"]).stdout.trim() });
    const entries = (audit.data as { items: { action: string; actorPrincipal: string }[] }).items;
    expect(entries.map((e) => [e.action, e.actorPrincipal])).toEqual([
      ["auth.token", "user"], // the refused use after revocation
      ["token.revoke", "system"],
      ["token.create", "system"],
    ]);
  });

  it("explains bad input and exits non-zero", () => {
    const unknown = admin(["token", "create", "--email", "nobody@example.com", "--description", "x"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("no user with email nobody@example.com");
    const badDays = admin(["token", "create", "--email", "dev@example.com", "--description", "x", "--expires-in", "45"]);
    expect(badDays.status).toBe(2);
    expect(badDays.stderr).toMatch(/30, 60, 90/);
    const shortPassword = admin(["user", "create", "--email", "short@example.com", "--name", "S"], "short");
    expect(shortPassword.status).toBe(1);
    expect(shortPassword.stderr).toMatch(/password/i);
    expect(shortPassword.stderr).not.toMatch(/\bat .+\.(js|ts):\d+/);
  });
});
