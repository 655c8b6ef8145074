import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listProcedures } from "@ona/api";
import type { Environment } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, query, signUp, type SignedUpUser } from "../support/client";
import { makeRepository } from "../support/git";
import { rawRequest, type RawResponse } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";

/**
 * Cookie-authenticated changes need an Origin header equal, as a whole (scheme, host and port), to
 * ONA_PUBLIC_URL's or a trusted origin; token-authenticated ones need none. Every write procedure
 * of the router is tried, through node:http, which sends exactly the headers given (no Origin of
 * its own), so what the server sees is what the test meant.
 */
const TRUSTED = "https://ona.example.com";

let databases: TestDatabases;
let server: TestServer;
let owner: SignedUpUser;
let token: string;
let repository: string;
let publicOrigin: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, config: { trustedOrigins: [TRUSTED] } });
  publicOrigin = server.url;
  owner = await signUp(server.url);
  token = (await createToken(server.url, owner)).secret;
  repository = makeRepository();
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

const writes = listProcedures().filter((procedure) => procedure.type === "mutation");

function post(path: string, input: unknown, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(`${server.url}/api/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
}

async function runningEnvironment(): Promise<string> {
  const created = await post("environment.create", { contextUrl: repository }, { authorization: `Bearer ${token}` });
  const id = (JSON.parse(created.body) as { result: { data: { environment: Environment } } }).result.data.environment.id;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await query(server.url, "environment.get", { id }, { token });
    if ((got.data as { environment: Environment }).environment.status.phase === "ENVIRONMENT_PHASE_RUNNING") return id;
    if (Date.now() > deadline) throw new Error(`environment ${id} did not start: ${got.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A valid input for each write: with `real`, with what it needs existing (a running environment
 * for exec); without, with ids no one has.
 */
async function inputFor(path: string, { real }: { real: boolean }): Promise<unknown> {
  const environmentId = async () => (real ? await runningEnvironment() : "no-such-environment");
  switch (path) {
    case "token.create":
      return { description: "csrf", expiresInDays: 30, accessLevel: "read-only" };
    case "token.revoke":
      return { id: real ? (await createToken(server.url, owner)).token.id : "no-such-token" };
    case "environment.create":
      return { contextUrl: repository };
    case "environment.start":
    case "environment.stop":
    case "environment.delete":
      return { id: await environmentId() };
    case "environment.exec":
      return { id: await environmentId(), command: ["true"] };
    default:
      throw new Error(`no input for ${path}: add one here, so its CSRF check is tested`);
  }
}

describe(`CSRF: cookie-authenticated writes (${testDatabaseProvider()})`, () => {
  it("the router has the writes this suite knows", () => {
    expect(writes.map((w) => w.path).sort()).toEqual([
      "environment.create",
      "environment.delete",
      "environment.exec",
      "environment.start",
      "environment.stop",
      "token.create",
      "token.revoke",
    ]);
  });

  for (const { path } of writes) {
    it(`${path}: refused without this server's whole origin, allowed with it or a trusted one`, async () => {
      const port = Number(new URL(server.url).port);
      const refusedOrigins: (string | undefined)[] = [
        undefined,
        "null",
        `https://127.0.0.1:${port}`, // another scheme on the same host and port
        `http://127.0.0.1:${port + 1}`, // another port
        `http://localhost:${port}`, // another host name for the same machine, not configured
        "https://evil.example",
        "http://ona.example.com", // the trusted origin's host with another scheme
        "https://ona.example.com:8443", // … or another port
        "https://ona.example.com.evil.example",
      ];
      // The check comes before the service: had it let one through, a made-up id would answer 404, not 403.
      const input = await inputFor(path, { real: false });
      for (const origin of refusedOrigins) {
        const response = await post(path, input, { cookie: owner.cookie, ...(origin === undefined ? {} : { origin }) });
        expect(response.status, `${path} with Origin ${String(origin)}: ${response.body}`).toBe(403);
        expect(JSON.parse(response.body).error.message).toMatch(/cross-site request refused/);
      }
      for (const origin of [publicOrigin, TRUSTED]) {
        const response = await post(path, await inputFor(path, { real: true }), { cookie: owner.cookie, origin });
        expect(response.status, `${path} with Origin ${origin}: ${response.body}`).toBe(200);
      }
    }, 180_000);
  }

  it("a refused cross-site write changes nothing and is audited as denied", async () => {
    const target = await createToken(server.url, owner);
    const response = await post("token.revoke", { id: target.token.id }, { cookie: owner.cookie, origin: `https://127.0.0.1:${new URL(server.url).port}` });
    expect(response.status).toBe(403);
    const row = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: target.token.id } });
    expect(row.revokedAt).toBeNull();
    const audited = await server.database.db.auditEntry.findMany({ where: { action: "token.revoke", subjectId: target.token.id } });
    expect(audited.map((entry) => [entry.outcome, entry.actorId])).toEqual([["denied", owner.userId]]);
  });

  it("token-authenticated writes need no Origin", async () => {
    const target = await createToken(server.url, owner);
    const response = await post("token.revoke", { id: target.token.id }, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
  });
});
