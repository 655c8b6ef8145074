import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTokenFormat, PersonalAccessToken, TOKEN_PREFIX } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type SignedUpUser } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

const DAY = 24 * 60 * 60 * 1000;

let databases: TestDatabases;
let server: TestServer;
let alice: SignedUpUser;
let bob: SignedUpUser;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false });
  alice = await signUp(server.url);
  bob = await signUp(server.url);
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

describe(`personal access tokens (${testDatabaseProvider()})`, () => {
  it("creates a token whose secret is shown once and works as a bearer token", async () => {
    const created = await createToken(server.url, alice, { description: "  CI pipeline  ", accessLevel: "read-only" });
    expect(created.secret.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(checkTokenFormat(created.secret).ok).toBe(true);
    expect(created.token.description).toBe("CI pipeline");
    expect(created.token.hint).toMatch(/^ona_pat_[0-9A-Za-z]{4}…[0-9A-Za-z]{4}$/);
    expect(created.token.status).toBe("active");
    const expires = new Date(created.token.expiresAt).getTime() - new Date(created.token.createdAt).getTime();
    expect(expires).toBe(30 * DAY);

    const me = await query(server.url, "identity.whoami", undefined, { token: created.secret });
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ user: { email: alice.email }, authMethod: "token", token: { id: created.token.id, accessLevel: "read-only" } });

    const listed = await query(server.url, "token.list", {}, { token: created.secret });
    expect(listed.text).not.toContain(created.secret);
    const item = (listed.data as { items: unknown[] }).items.find((t) => (t as { id: string }).id === created.token.id);
    expect(PersonalAccessToken.strict().parse(item)).toBeTruthy();
  });

  it("refuses descriptions and expirations outside the rules, with field errors", async () => {
    for (const input of [
      { description: "", expiresInDays: 30, accessLevel: "read-only" },
      { description: "   ", expiresInDays: 30, accessLevel: "read-only" },
      { description: "x".repeat(101), expiresInDays: 30, accessLevel: "read-only" },
      { description: "ok", expiresInDays: 45, accessLevel: "read-only" },
      { description: "ok", expiresInDays: 30, accessLevel: "admin" },
    ]) {
      const result = await mutate(server.url, "token.create", input, { cookie: alice.cookie });
      expect(result.status, JSON.stringify(input)).toBe(400);
      expect(result.error?.data.onaCode).toBe("VALIDATION");
      expect(result.error?.data.issues?.length).toBeGreaterThan(0);
    }
  });

  it("stores only a keyed hash and the hint", async () => {
    const created = await createToken(server.url, alice);
    const row = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.secret);
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 12));
  });

  it("a token cannot mint tokens: token.create needs a signed-in session", async () => {
    const { secret } = await createToken(server.url, alice, { accessLevel: "read-write" });
    const result = await mutate(server.url, "token.create", { description: "x", expiresInDays: 30, accessLevel: "read-write" }, { token: secret });
    expect(result.status).toBe(403);
    expect(result.error?.message).toMatch(/session/);
  });

  it("revoke takes effect on the next request, is idempotent, and the token stays listed as revoked", async () => {
    const created = await createToken(server.url, alice);
    expect((await query(server.url, "identity.whoami", undefined, { token: created.secret })).status).toBe(200);
    const revoked = await mutate(server.url, "token.revoke", { id: created.token.id }, { cookie: alice.cookie });
    expect(revoked.status).toBe(200);
    expect((revoked.data as { status: string }).status).toBe("revoked");
    const again = await mutate(server.url, "token.revoke", { id: created.token.id }, { cookie: alice.cookie });
    expect(again.status).toBe(200);
    expect((again.data as { revokedAt: string }).revokedAt).toBe((revoked.data as { revokedAt: string }).revokedAt);

    const refused = await query(server.url, "identity.whoami", undefined, { token: created.secret });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="ona", error="invalid_token"');
    expect(refused.error?.message).toMatch(/revoked/);
    expect(refused.text).not.toContain(created.secret);

    const listed = await query(server.url, "token.list", { status: ["revoked"] }, { cookie: alice.cookie });
    expect((listed.data as { items: { id: string }[] }).items.map((t) => t.id)).toContain(created.token.id);
  });

  it("a token may revoke its owner's tokens, including itself", async () => {
    const created = await createToken(server.url, alice, { accessLevel: "read-write" });
    const result = await mutate(server.url, "token.revoke", { id: created.token.id }, { token: created.secret });
    expect(result.status).toBe(200);
    expect((await query(server.url, "identity.whoami", undefined, { token: created.secret })).status).toBe(401);
  });

  it("another user's token answers not found, for get and revoke", async () => {
    const bobs = await createToken(server.url, bob);
    const get = await query(server.url, "token.get", { id: bobs.token.id }, { cookie: alice.cookie });
    expect(get.status).toBe(404);
    const revoke = await mutate(server.url, "token.revoke", { id: bobs.token.id }, { cookie: alice.cookie });
    expect(revoke.status).toBe(404);
    expect((await query(server.url, "identity.whoami", undefined, { token: bobs.secret })).status).toBe(200);
  });

  it("expires: the clock passing expiresAt makes it 401, and it stays listed as expired", async () => {
    const created = await createToken(server.url, alice, { expiresInDays: 30 });
    expect((await query(server.url, "identity.whoami", undefined, { token: created.secret })).status).toBe(200);
    server.clock.advance(30 * DAY + 1000);
    try {
      const refused = await query(server.url, "identity.whoami", undefined, { token: created.secret });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect(refused.error?.message).toMatch(/expired/);
      const listed = await query(server.url, "token.get", { id: created.token.id }, { cookie: alice.cookie });
      expect((listed.data as { status: string }).status).toBe("expired");
    } finally {
      server.clock.reset();
    }
  });

  it("a read-only token is refused writes with 403 insufficient_scope", async () => {
    const created = await createToken(server.url, alice, { accessLevel: "read-only" });
    const other = await createToken(server.url, alice);
    const result = await mutate(server.url, "token.revoke", { id: other.token.id }, { token: created.secret });
    expect(result.status).toBe(403);
    expect(result.headers.get("www-authenticate")).toBe('Bearer realm="ona", error="insufficient_scope"');
    expect(result.error?.message).toMatch(/read-only/);
  });

  it("lists newest first with cursor pagination", async () => {
    const carol = await signUp(server.url);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createToken(server.url, carol, { description: `t${i}` })).token.id);
    const seen: string[] = [];
    let nextToken: string | null = null;
    do {
      const page = await query(server.url, "token.list", { pageSize: 2, ...(nextToken ? { nextToken } : {}) }, { cookie: carol.cookie });
      const data = page.data as { items: { id: string }[]; nextToken: string | null };
      seen.push(...data.items.map((t) => t.id));
      nextToken = data.nextToken;
    } while (nextToken);
    expect(seen).toEqual([...ids].reverse());
    const bad = await query(server.url, "token.list", { nextToken: "garbage" }, { cookie: carol.cookie });
    expect(bad.status).toBe(400);
  });

  it("records last used time and address, at most once a minute", async () => {
    const created = await createToken(server.url, alice);
    await query(server.url, "identity.whoami", undefined, { token: created.secret });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } });
    expect(first.lastUsedAt).not.toBeNull();
    expect(first.lastUsedIp).toBe("127.0.0.1");
    await query(server.url, "identity.whoami", undefined, { token: created.secret });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } });
    expect(second.lastUsedAt?.getTime()).toBe(first.lastUsedAt?.getTime());
    server.clock.advance(61_000);
    try {
      await query(server.url, "identity.whoami", undefined, { token: created.secret });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const third = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } });
      expect(third.lastUsedAt?.getTime()).toBeGreaterThan(first.lastUsedAt?.getTime() ?? 0);
    } finally {
      server.clock.reset();
    }
  });
});
