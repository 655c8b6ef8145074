import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { query } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { REPO_ROOT, SERVER_ENTRY, startProductionServer, type ProductionServer } from "../support/production-server";

/** The built server as `pnpm start` runs it: Next pages, better-auth through Next, the API direct. */
let databases: TestDatabases;
let server: ProductionServer;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startProductionServer({ database: await databases.fresh() });
});

afterAll(async () => {
  await server?.stop();
  await databases?.stop();
});

const cookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");

describe(`the production server (${testDatabaseProvider()})`, () => {
  it("answers health with the database reachable, and how its runner isolates environments", async () => {
    const response = await fetch(`${server.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", runners: [{ id: "local", isolation: "sandbox" }] });
  });

  it("serves the sign-in page and sends signed-out visitors of settings there", async () => {
    const page = await fetch(`${server.url}/sign-in`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Sign in");
    const settings = await fetch(`${server.url}/settings/personal-access-tokens`, { redirect: "manual" });
    expect([302, 307, 308]).toContain(settings.status);
    expect(settings.headers.get("location")).toContain("/sign-in?next=%2Fsettings%2Fpersonal-access-tokens");
  });

  it("signs up, in and out through the auth routes; the first account is the admin", async () => {
    const origin = server.url;
    const signUp = await fetch(`${server.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ email: "ada@example.com", password: "correct horse battery", name: "Ada" }),
    });
    expect(signUp.status).toBe(200);
    const cookie = cookieOf(signUp);
    const me = await query(server.url, "identity.whoami", undefined, { cookie });
    expect(me.data).toMatchObject({ user: { email: "ada@example.com", role: "admin" }, authMethod: "session" });

    const page = await fetch(`${server.url}/settings/personal-access-tokens`, { headers: { cookie } });
    expect(page.status).toBe(200);

    const signOut = await fetch(`${server.url}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin, "content-type": "application/json" }, body: "{}" });
    expect(signOut.status).toBe(200);
    expect((await query(server.url, "identity.whoami", undefined, { cookie })).status).toBe(401);

    const wrong = await fetch(`${server.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ email: "ada@example.com", password: "not the password" }),
    });
    expect(wrong.status).toBe(401);
    const wrongBody = (await wrong.json()) as { message: string };
    expect(wrongBody.message).toMatch(/invalid email or password/i);

    const signIn = await fetch(`${server.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ email: "ada@example.com", password: "correct horse battery" }),
    });
    expect(signIn.status).toBe(200);
    expect((await query(server.url, "identity.whoami", undefined, { cookie: cookieOf(signIn) })).status).toBe(200);
  });

  it("answers bad sign-in input with a message, not a stack trace", async () => {
    const response = await fetch(`${server.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ email: "not-an-email", password: "" }),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toMatch(/email/i);
    expect(text).not.toMatch(/\bat .+\.(js|ts):\d+/);
  });

  it("refuses to start on bad configuration, naming the variable", () => {
    const result = spawnSync(process.execPath, [SERVER_ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: "eighty", ONA_DATA_DIR: mkdtempSync(join(tmpdir(), "ona-bad-")) },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("PORT: PORT must be a port number");
    expect(result.stderr).not.toMatch(/\bat .+\.(js|ts):\d+/);
  });

  it("counts sign-in attempts per client address through Next's auth route, whatever the client claims", async () => {
    const email = `guessed-${process.pid}@example.com`;
    const password = "correct horse battery staple";
    const signUp = await fetch(`${server.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ email, password, name: "Guessed" }),
    });
    expect(signUp.status).toBe(200);
    let attempts = 0;
    const signIn = (attempt: string, localAddress: string) =>
      rawRequest(`${server.url}/api/auth/sign-in/email`, {
        method: "POST",
        localAddress,
        // A new address claimed every time: the server replaces the header with its own (packages/api/src/request-origin.ts).
        headers: { "content-type": "application/json", origin: server.url, "x-ona-client-address": `198.51.100.${++attempts}` },
        body: JSON.stringify({ email, password: attempt }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signIn(`wrong ${i}`, "127.0.0.51")).status);
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
    expect((await signIn(password, "127.0.0.51")).status).toBe(429);
    expect((await signIn(password, "127.0.0.52")).status).toBe(200);
  });
});
