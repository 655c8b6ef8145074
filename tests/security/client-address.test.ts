import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenFromRandomBytes } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, signUp } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";

/**
 * Which address the server counts failures against and writes into the audit log. Without a
 * trusted proxy it is the connection's peer, whatever X-Forwarded-For says. Behind trusted
 * proxies it is the entry the proxies appended (the right-most with one, further left with more),
 * never what the client wrote at the left, so a guesser cannot dodge the per-address limit or
 * forge the audited address. Requests here come from chosen loopback addresses, standing for a
 * client (no proxy) or for the proxy itself.
 */
const LIMIT = 5;
const WHOAMI = "/api/trpc/identity.whoami";

let databases: TestDatabases;
const servers: TestServer[] = [];

beforeAll(async () => {
  databases = await startTestDatabases();
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await databases?.stop();
});

async function serverWithHops(trustedProxyHops: number): Promise<TestServer> {
  const server = await startTestServer({ databases, runner: false, config: { trustedProxyHops, authFailureLimit: LIMIT, authFailureWindowSeconds: 300 } });
  servers.push(server);
  return server;
}

const unissued = () => tokenFromRandomBytes(randomBytes(64)) ?? "";

/** A guess sent from `localAddress` with these X-Forwarded-For entries; returns the status. */
async function guess(server: TestServer, localAddress: string, forwardedFor?: string): Promise<number> {
  const response = await rawRequest(`${server.url}${WHOAMI}`, {
    localAddress,
    headers: { authorization: `Bearer ${unissued()}`, ...(forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }) },
  });
  return response.status;
}

async function auditedAddresses(server: TestServer): Promise<(string | null)[]> {
  const rows = await server.database.db.auditEntry.findMany({ where: { action: "auth.token" }, orderBy: { createdAt: "asc" } });
  return rows.map((row) => row.ip);
}

const forgedLeftMost = (i: number) => `198.51.100.${i + 1}`;

describe(`the client address (${testDatabaseProvider()})`, () => {
  it("without a trusted proxy: the connection's peer; X-Forwarded-For changes nothing", async () => {
    const server = await serverWithHops(0);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push(await guess(server, "127.0.0.21", forgedLeftMost(i)));
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429, 429]);
    expect(new Set(await auditedAddresses(server))).toEqual(new Set(["127.0.0.21"]));
  });

  it("behind one trusted proxy: the right-most X-Forwarded-For entry, whatever the client wrote to its left", async () => {
    const server = await serverWithHops(1);
    const statuses: number[] = [];
    // The proxy at 127.0.0.22 appends the address it saw (203.0.113.9) to what the client sent.
    for (let i = 0; i < LIMIT + 2; i++) statuses.push(await guess(server, "127.0.0.22", `${forgedLeftMost(i)}, 203.0.113.9`));
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429, 429]);
    expect(new Set(await auditedAddresses(server))).toEqual(new Set(["203.0.113.9"]));
    // Another client behind the same proxy is not slowed down.
    expect(await guess(server, "127.0.0.22", `${forgedLeftMost(0)}, 203.0.113.10`)).toBe(401);
  });

  it("behind two trusted proxies: the entry the outer proxy appended", async () => {
    const server = await serverWithHops(2);
    const statuses: number[] = [];
    // Outer proxy appended 203.0.113.11 (the client it saw); the inner one appended 10.0.0.5 (the outer proxy).
    for (let i = 0; i < LIMIT + 1; i++) statuses.push(await guess(server, "127.0.0.23", `${forgedLeftMost(i)}, 203.0.113.11, 10.0.0.5`));
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429]);
    expect(new Set(await auditedAddresses(server))).toEqual(new Set(["203.0.113.11"]));
  });

  it("records the same address as a token's last use", async () => {
    const server = await serverWithHops(1);
    const created = await createToken(server.url, await signUp(server.url));
    const response = await rawRequest(`${server.url}${WHOAMI}`, {
      localAddress: "127.0.0.24",
      headers: { authorization: `Bearer ${created.secret}`, "x-forwarded-for": "198.51.100.200, 203.0.113.12" },
    });
    expect(response.status).toBe(200);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const row = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } });
      if (row.lastUsedIp !== null) {
        expect(row.lastUsedIp).toBe("203.0.113.12");
        break;
      }
      if (Date.now() > deadline) throw new Error("the last-used stamp never landed");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it("counts password guesses on sign-in by the same address: a forged X-Forwarded-For or client-address header does not dodge the limit", async () => {
    const server = await serverWithHops(1);
    const user = await signUp(server.url);
    const signIn = (password: string, forwardedFor: string, extra: Record<string, string> = {}) =>
      rawRequest(`${server.url}/api/auth/sign-in/email`, {
        method: "POST",
        localAddress: "127.0.0.25",
        headers: { "content-type": "application/json", origin: server.url, "x-forwarded-for": forwardedFor, ...extra },
        body: JSON.stringify({ email: user.email, password }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await signIn("wrong password", `${forgedLeftMost(i)}, 203.0.113.13`, { "x-ona-client-address": forgedLeftMost(i) });
      statuses.push(response.status);
    }
    // better-auth's rule for /sign-in/email (packages/api/src/auth.ts): 10 attempts a minute per address.
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect((await signIn(user.password, `${forgedLeftMost(0)}, 203.0.113.13`)).status).toBe(429);
    // Another address behind the proxy signs in.
    expect((await signIn(user.password, `${forgedLeftMost(0)}, 203.0.113.14`)).status).toBe(200);
  });
});
