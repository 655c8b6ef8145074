import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type SignedUpUser } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";
import { nearMissOf, unissuedToken } from "../support/tokens";

let databases: TestDatabases;
let server: TestServer;
let admin: SignedUpUser;
let member: SignedUpUser;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 1000 } });
  admin = await signUp(server.url);
  member = await signUp(server.url);
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

describe(`bearer authentication (${testDatabaseProvider()})`, () => {
  it("asks for credentials with the Bearer challenge when none come", async () => {
    const result = await query(server.url, "identity.whoami", undefined, null);
    expect(result.status).toBe(401);
    expect(result.headers.get("www-authenticate")).toBe('Bearer realm="ona"');
    expect(result.error?.data.onaCode).toBe("UNAUTHENTICATED");
  });

  it("rejects a token with a bad checksum as invalid_token without a database query", async () => {
    const { secret } = await createToken(server.url, member);
    const tampered = `${secret.slice(0, -1)}${secret.endsWith("a") ? "b" : "a"}`;
    server.queries.length = 0;
    const result = await query(server.url, "identity.whoami", undefined, { token: tampered });
    expect(result.status).toBe(401);
    expect(result.headers.get("www-authenticate")).toBe('Bearer realm="ona", error="invalid_token"');
    expect(server.queries).toEqual([]);
    expect(result.text).not.toContain(tampered);
  });

  it("answers an unknown token exactly like a near-miss of a revoked one: only the revoked secret itself is told it was revoked", async () => {
    const { secret, token } = await createToken(server.url, member);
    expect((await mutate(server.url, "token.revoke", { id: token.id }, { cookie: member.cookie })).status).toBe(200);
    // Both are well-formed (right checksum), so both reach the lookup; the near-miss shares the revoked token's hint.
    const unknown = await query(server.url, "identity.whoami", undefined, { token: unissuedToken() });
    const nearMiss = await query(server.url, "identity.whoami", undefined, { token: nearMissOf(secret, 5) });
    for (const answer of [unknown, nearMiss]) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="ona", error="invalid_token"');
      expect(answer.error?.message).not.toMatch(/revoked|expired/);
    }
    expect(nearMiss.text).toBe(unknown.text);
    const revoked = await query(server.url, "identity.whoami", undefined, { token: secret });
    expect(revoked.status).toBe(401);
    expect(revoked.error?.message).toMatch(/revoked/);
  });

  it("refuses a token in the URL", async () => {
    const { secret } = await createToken(server.url, member);
    const response = await fetch(`${server.url}/api/trpc/identity.whoami?access_token=${secret}`);
    expect(response.status).toBe(400);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="ona", error="invalid_request"');
    expect(await response.text()).not.toContain(secret);
  });

  it("refuses two Authorization headers", async () => {
    const { secret } = await createToken(server.url, member);
    const response = await rawRequest(`${server.url}/api/trpc/identity.whoami`, {
      headers: { authorization: [`Bearer ${secret}`, `Bearer ${secret}`] },
    });
    expect(response.status).toBe(400);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona", error="invalid_request"');
  });

  it("answers another scheme with the Bearer challenge", async () => {
    const result = await query(server.url, "identity.whoami", undefined, { authorization: "Basic dXNlcjpwYXNz" });
    expect(result.status).toBe(401);
    expect(result.headers.get("www-authenticate")).toBe('Bearer realm="ona"');
  });

  it("tells whoami the token's id, access level and expiry", async () => {
    const { secret, token } = await createToken(server.url, member, { accessLevel: "read-only", expiresInDays: 60 });
    const result = await query(server.url, "identity.whoami", undefined, { token: secret });
    expect(result.data).toEqual({
      user: { id: member.userId, email: member.email, name: expect.any(String), role: "member" },
      authMethod: "token",
      token: { id: token.id, description: "test token", accessLevel: "read-only", expiresAt: token.expiresAt },
    });
  });

  it("the first account is the admin, later ones are members", async () => {
    const first = await query(server.url, "identity.whoami", undefined, { cookie: admin.cookie });
    expect((first.data as { user: { role: string } }).user.role).toBe("admin");
    const second = await query(server.url, "identity.whoami", undefined, { cookie: member.cookie });
    expect((second.data as { user: { role: string } }).user.role).toBe("member");
  });
});

describe("cross-site requests", () => {
  it("refuses cookie-authenticated changes without this server's Origin", async () => {
    const { token } = await createToken(server.url, member);
    for (const origin of [undefined, "https://evil.example"]) {
      const response = await fetch(`${server.url}/api/trpc/token.revoke`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: member.cookie, ...(origin ? { origin } : {}) },
        body: JSON.stringify({ id: token.id }),
      });
      expect(response.status, String(origin)).toBe(403);
    }
    const allowed = await mutate(server.url, "token.revoke", { id: token.id }, { cookie: member.cookie });
    expect(allowed.status).toBe(200);
  });

  it("lets token-authenticated changes through without an Origin header", async () => {
    const { secret, token } = await createToken(server.url, member);
    const response = await fetch(`${server.url}/api/trpc/token.revoke`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: JSON.stringify({ id: token.id }),
    });
    expect(response.status).toBe(200);
  });
});

describe("audit log", () => {
  it("records successes and denials with the token id, actor, address and user agent", async () => {
    const readOnly = await createToken(server.url, member, { accessLevel: "read-only" });
    const target = await createToken(server.url, member);
    const denied = await mutate(server.url, "token.revoke", { id: target.token.id }, { token: readOnly.secret }, { "user-agent": "audit-test/1.0" });
    expect(denied.status).toBe(403);
    const readWrite = await createToken(server.url, member, { accessLevel: "read-write" });
    const done = await mutate(server.url, "token.revoke", { id: target.token.id }, { token: readWrite.secret });
    expect(done.status).toBe(200);

    const entries = await query(server.url, "auditLog.list", { subjectId: target.token.id }, { cookie: member.cookie });
    const items = (entries.data as { items: Record<string, unknown>[] }).items;
    expect(items.map((e) => [e.action, e.outcome, e.tokenId])).toEqual([
      ["token.revoke", "success", readWrite.token.id],
      ["token.revoke", "denied", readOnly.token.id],
      ["token.create", "success", null],
    ]);
    expect(items[1]).toMatchObject({ actorId: member.userId, actorPrincipal: "user", ip: "127.0.0.1", userAgent: "audit-test/1.0" });
  });

  it("records a bad token attempt, and a not-found attempt as failed", async () => {
    const neverIssued = unissuedToken();
    expect((await query(server.url, "identity.whoami", undefined, { token: neverIssued })).status).toBe(401);
    const { secret } = await createToken(server.url, member);
    const missing = await mutate(server.url, "token.revoke", { id: "does-not-exist" }, { token: secret });
    expect(missing.status).toBe(404);
    const all = await query(server.url, "auditLog.list", { pageSize: 100 }, { cookie: admin.cookie });
    const items = (all.data as { items: Record<string, unknown>[] }).items;
    expect(items.some((e) => e.action === "auth.token" && e.outcome === "denied" && e.actorPrincipal === "anonymous")).toBe(true);
    expect(items.some((e) => e.action === "token.revoke" && e.outcome === "failed" && e.subjectId === "does-not-exist")).toBe(true);
  });

  it("audits a token refused at the lookup; credentials refused before it are logged, not written, on queries and changes alike", async () => {
    const rows = () => server.database.db.auditEntry.count();
    const warnings = () => server.logs.filter((line) => line.message === "refused credentials before the token lookup").length;
    const { token } = await createToken(server.url, member);
    const [rowsBefore, warningsBefore] = [await rows(), warnings()];
    expect((await query(server.url, "identity.whoami", undefined, { token: "ona_pat_mistyped" })).status).toBe(401);
    expect((await mutate(server.url, "token.revoke", { id: token.id }, { token: "ona_pat_mistyped" })).status).toBe(401);
    expect((await query(server.url, "identity.whoami", undefined, { authorization: "Basic dXNlcjpwYXNz" })).status).toBe(401);
    expect(await rows()).toBe(rowsBefore);
    expect(warnings()).toBe(warningsBefore + 3);

    expect((await query(server.url, "identity.whoami", undefined, { token: unissuedToken() })).status).toBe(401);
    expect(await rows()).toBe(rowsBefore + 1);
    // A change attempt with a looked-up token: the refusal and the attempted change, one row each.
    expect((await mutate(server.url, "token.revoke", { id: token.id }, { token: unissuedToken() })).status).toBe(401);
    const latest = await server.database.db.auditEntry.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 2 });
    expect(latest.map((row) => [row.action, row.outcome]).sort()).toEqual([
      ["auth.token", "denied"],
      ["token.revoke", "denied"],
    ]);
    expect(await rows()).toBe(rowsBefore + 3);
  });

  it("shows members their own entries and admins everyone's, filtered by token", async () => {
    const { secret, token } = await createToken(server.url, member);
    await mutate(server.url, "token.revoke", { id: token.id }, { token: secret });
    const mine = await query(server.url, "auditLog.list", { pageSize: 100 }, { cookie: member.cookie });
    const memberItems = (mine.data as { items: { actorId: string | null }[] }).items;
    expect(memberItems.length).toBeGreaterThan(0);
    expect(memberItems.every((e) => e.actorId === member.userId)).toBe(true);
    await createToken(server.url, admin);
    const everyone = await query(server.url, "auditLog.list", { pageSize: 100 }, { cookie: admin.cookie });
    const actors = new Set((everyone.data as { items: { actorId: string | null }[] }).items.map((e) => e.actorId));
    expect(actors.has(admin.userId) && actors.has(member.userId)).toBe(true);
    const byToken = await query(server.url, "auditLog.list", { tokenId: token.id }, { cookie: member.cookie });
    expect((byToken.data as { items: { tokenId: string }[] }).items.map((e) => e.tokenId)).toEqual([token.id]);
  });
});

describe("failed-authentication rate limit", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ databases, runner: false, config: { authFailureLimit: 5, authFailureWindowSeconds: 60 } });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it("answers 429 with Retry-After after repeated failures, while a valid token from another address works", async () => {
    const user = await signUp(limited.url);
    const { secret } = await createToken(limited.url, user);
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await rawRequest(`${limited.url}/api/trpc/identity.whoami`, {
        headers: { authorization: `Bearer ona_pat_${"C".repeat(32)}00000${i}` },
        localAddress: "127.0.0.1",
      });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers["retry-after"];
      const valid = await rawRequest(`${limited.url}/api/trpc/identity.whoami`, {
        headers: { authorization: `Bearer ${secret}` },
        localAddress: "127.0.0.2",
      });
      expect(valid.status).toBe(200);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it("writes no audit row for a 429: the answer costs the database nothing", async () => {
    const user = await signUp(limited.url);
    const { token, secret } = await createToken(limited.url, user);
    const guess = (authorization: string, path = "/api/trpc/identity.whoami", method = "GET") =>
      rawRequest(`${limited.url}${path}`, {
        method,
        headers: { authorization, "content-type": "application/json" },
        localAddress: "127.0.0.9",
        ...(method === "POST" ? { body: JSON.stringify({ id: token.id }) } : {}),
      });
    for (let i = 0; i < 5; i++) expect((await guess(`Bearer ${unissuedToken()}`)).status).toBe(401);
    const before = await limited.database.db.auditEntry.count();
    expect((await guess(`Bearer ${unissuedToken()}`)).status).toBe(429);
    expect((await guess(`Bearer ${secret}`)).status).toBe(429);
    expect((await guess(`Bearer ${secret}`, "/api/trpc/token.revoke", "POST")).status).toBe(429);
    expect(await limited.database.db.auditEntry.count()).toBe(before);
  });
});
