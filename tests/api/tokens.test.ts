import { createHash, createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTokenFormat, PersonalAccessToken, TOKEN_PREFIX } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type SignedUpUser } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { startTestServer, type Statement, type TestServer } from "../support/server";

const DAY = 24 * 60 * 60 * 1000;

let databases: TestDatabases;
let server: TestServer;
let alice: SignedUpUser;
let bob: SignedUpUser;

beforeAll(async () => {
  databases = await startTestDatabases(undefined, { logStatements: true });
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
    // Exactly the contract's fields (strict: nothing more, such as a hash), with the values create returned.
    expect(PersonalAccessToken.strict().parse(item)).toEqual({ ...created.token, lastUsed: expect.objectContaining({ ip: "127.0.0.1" }) });
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
    // Computed here, independently of the code: HMAC-SHA-256 keyed with the server secret, not a plain hash.
    expect(row.tokenHash).toBe(createHmac("sha256", server.api.deps.config.serverSecret).update(created.secret).digest("hex"));
    expect(row.tokenHash).not.toBe(createHash("sha256").update(created.secret).digest("hex"));
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

  it("expires exactly at expiresAt: valid a millisecond before, refused and listed as expired at that instant", async () => {
    const created = await createToken(server.url, alice, { expiresInDays: 30 });
    const expiresAt = new Date(created.token.expiresAt);
    try {
      server.clock.freezeAt(new Date(expiresAt.getTime() - 1));
      expect((await query(server.url, "identity.whoami", undefined, { token: created.secret })).status).toBe(200);
      const before = await query(server.url, "token.list", { status: ["active"] }, { cookie: alice.cookie });
      expect((before.data as { items: { id: string }[] }).items.map((t) => t.id)).toContain(created.token.id);

      server.clock.freezeAt(expiresAt);
      const refused = await query(server.url, "identity.whoami", undefined, { token: created.secret });
      expect(refused.status).toBe(401);
      expect(refused.error?.message).toMatch(/expired/);
      const got = await query(server.url, "token.get", { id: created.token.id }, { cookie: alice.cookie });
      expect((got.data as { status: string }).status).toBe("expired");
      const expired = await query(server.url, "token.list", { status: ["expired"] }, { cookie: alice.cookie });
      expect((expired.data as { items: { id: string }[] }).items.map((t) => t.id)).toContain(created.token.id);
      const active = await query(server.url, "token.list", { status: ["active"] }, { cookie: alice.cookie });
      expect((active.data as { items: { id: string }[] }).items.map((t) => t.id)).not.toContain(created.token.id);
    } finally {
      server.clock.reset();
    }
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
    const whoamiFrom = (localAddress: string) =>
      rawRequest(`${server.url}/api/trpc/identity.whoami`, { localAddress, headers: { authorization: `Bearer ${created.secret}` } });
    /** The stamp is written after the answer: wait for the one expected, with a deadline. */
    const stampFrom = async (address: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const row = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } });
        if (row.lastUsedIp === address && row.lastUsedAt) return row.lastUsedAt;
        if (Date.now() > deadline) throw new Error(`no last-used stamp from ${address}: ${row.lastUsedIp ?? "none"} at ${row.lastUsedAt?.toISOString() ?? "never"}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const stampWrites = (sent: Statement[]) =>
      sent.filter((statement) => /^UPDATE .*personal_access_token/is.test(statement.sql.trim()) && statement.params.includes(created.token.id)).length;
    const { statements } = await server.statementsDuring(async () => {
      expect((await whoamiFrom("127.0.0.31")).status).toBe(200);
      const first = await stampFrom("127.0.0.31");
      // Within the minute, from elsewhere: no write (a write would also change the address).
      server.clock.advance(30_000);
      expect((await whoamiFrom("127.0.0.32")).status).toBe(200);
      // A minute after the first: written again. Once this one has landed, an earlier write would have too.
      server.clock.advance(31_000);
      expect((await whoamiFrom("127.0.0.33")).status).toBe(200);
      const third = await stampFrom("127.0.0.33");
      expect(third.getTime()).toBeGreaterThan(first.getTime() + 60_000);
    });
    server.clock.reset();
    expect(stampWrites(statements), "last-used writes for the three requests").toBe(2);
  });
});
