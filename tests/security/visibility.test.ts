import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerRunner } from "@ona/runner";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type SignedUpUser } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

/**
 * What a member can make the list procedures show: never another user's rows, whatever the input
 * asks for (allUsers, another actorId) or whatever page token it forges. Crafted page tokens are
 * well-formed (base64url JSON of a date and an id, as the server writes them) with values no
 * server would issue; each gets the member's own rows or a 400 that says to start over, never
 * someone else's rows and never a 5xx.
 */
let databases: TestDatabases;
let server: TestServer;
let admin: SignedUpUser;
let member: SignedUpUser;
let other: SignedUpUser;
let memberToken: string;
let otherEnvironmentId: string;
let otherTokenId: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false });
  admin = await signUp(server.url);
  member = await signUp(server.url);
  other = await signUp(server.url);
  memberToken = (await createToken(server.url, member)).secret;
  const otherToken = await createToken(server.url, other);
  otherTokenId = otherToken.token.id;
  // The local runner's classes, registered as the runner does; no runner works on what is created here.
  await registerRunner(server.database.db, { id: "local", name: "local", kind: "local" }, () => new Date());
  // Environments and audit entries for both users.
  for (const token of [memberToken, otherToken.secret]) {
    for (let i = 0; i < 3; i++) {
      const created = await mutate(server.url, "environment.create", { contextUrl: "https://example.invalid/repo.git" }, { token });
      if (created.status !== 200) throw new Error(created.text);
    }
  }
  const environment = await server.database.db.environment.findFirstOrThrow({ where: { userId: other.userId } });
  otherEnvironmentId = environment.id;
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe(`what members can list (${testDatabaseProvider()})`, () => {
  it("environment.list with allUsers: 403 for a member, everyone's for an admin", async () => {
    const refused = await query(server.url, "environment.list", { allUsers: true }, { token: memberToken });
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toMatch(/only administrators/);
    const everyone = await query(server.url, "environment.list", { allUsers: true, pageSize: 100 }, { cookie: admin.cookie });
    const owners = new Set((everyone.data as { items: { metadata: { creator: { id: string } } }[] }).items.map((e) => e.metadata.creator.id));
    expect(owners).toEqual(new Set([member.userId, other.userId]));
  });

  it("auditLog.list with another user's actorId: 403 for a member; their own id or none gives their own entries; an admin filters by anyone", async () => {
    const refused = await query(server.url, "auditLog.list", { actorId: other.userId }, { token: memberToken });
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toMatch(/only administrators/);
    for (const input of [{}, { actorId: member.userId }]) {
      const own = await query(server.url, "auditLog.list", { ...input, pageSize: 100 }, { token: memberToken });
      expect(own.status, own.text).toBe(200);
      const actors = new Set((own.data as { items: { actorId: string | null }[] }).items.map((e) => e.actorId));
      expect(actors).toEqual(new Set([member.userId]));
    }
    const filtered = await query(server.url, "auditLog.list", { actorId: other.userId, pageSize: 100 }, { cookie: admin.cookie });
    const actors = new Set((filtered.data as { items: { actorId: string | null }[] }).items.map((e) => e.actorId));
    expect(actors).toEqual(new Set([other.userId]));
  });

  it("never shows another user's rows for a forged page token, and never fails with 5xx", async () => {
    const otherEnvironment = await server.database.db.environment.findUniqueOrThrow({ where: { id: otherEnvironmentId } });
    const otherTokenRow = await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: otherTokenId } });
    const crafted = [
      // Well-formed, pointing at another user's rows or past everything.
      cursor([otherEnvironment.createdAt.toISOString(), otherEnvironment.id]),
      cursor([otherTokenRow.createdAt.toISOString(), otherTokenRow.id]),
      cursor(["9999-12-31T23:59:59.999Z", "~~~~"]),
      cursor(["9999-12-31T23:59:59.999Z", ""]),
      // Dates JavaScript accepts and the databases may not.
      cursor(["+275760-09-13T00:00:00.000Z", "z"]),
      cursor(["-271821-04-20T00:00:00.000Z", "z"]),
      cursor(["0000-01-01T00:00:00.000Z", "z"]),
      cursor(["-000001-01-01T00:00:00.000Z", "z"]),
      cursor(["1970-01-01T00:00:00.000Z", "z"]),
      cursor(["2026-01-01", "z"]),
      cursor([String(Date.now()), "z"]),
      // Odd ids.
      cursor(["2030-01-01T00:00:00.000Z", "' OR 1=1 --"]),
      cursor(["2030-01-01T00:00:00.000Z", "ü😀\u202e"]),
      cursor(["2030-01-01T00:00:00.000Z", "x".repeat(120)]),
      // Not the shape at all.
      cursor([123, "z"]),
      cursor(["2030-01-01T00:00:00.000Z", 5]),
      cursor({ createdAt: "2030-01-01T00:00:00.000Z", id: "z" }),
      cursor([]),
      cursor(["2030-01-01T00:00:00.000Z", "z", "extra"]),
      cursor(null),
      "",
    ];
    const lists = [
      { path: "environment.list", owner: (item: { metadata: { creator: { id: string } } }) => item.metadata.creator.id },
      { path: "token.list", owner: (item: { userId: string }) => item.userId },
      { path: "auditLog.list", owner: (item: { actorId: string | null }) => item.actorId },
    ] as const;
    const outcomes: string[] = [];
    for (const { path, owner } of lists) {
      for (const nextToken of crafted) {
        const result = await query(server.url, path, { nextToken, pageSize: 100 }, { token: memberToken });
        const label = `${path} ${Buffer.from(nextToken, "base64url").toString("utf8")}`;
        outcomes.push(`${label} → ${result.status}`);
        if (result.status === 200) {
          const items = (result.data as { items: Parameters<typeof owner>[0][] }).items;
          expect(items.map((item) => owner(item as never)).filter((id) => id !== member.userId), label).toEqual([]);
        } else {
          expect(result.status, `${label}: ${result.text}`).toBe(400);
          expect(result.error?.data.onaCode).toBe("VALIDATION");
          expect(result.error?.message, label).toMatch(/nextToken/);
        }
      }
    }
    expect(server.logs.filter((line) => line.level === "error"), outcomes.join("\n")).toEqual([]);
  });

  it("takes the contract's earliest and latest timestamps in filters without a 5xx", async () => {
    const environment = await server.database.db.environment.findFirstOrThrow({ where: { userId: member.userId } });
    for (const at of ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"]) {
      for (const [path, input] of [
        ["auditLog.list", { from: at }],
        ["auditLog.list", { to: at }],
        ["environment.logs", { id: environment.id, since: at }],
      ] as const) {
        const result = await query(server.url, path, input, { token: memberToken });
        expect([200, 400], `${path} ${JSON.stringify(input)}: ${result.text}`).toContain(result.status);
      }
    }
    expect(server.logs.filter((line) => line.level === "error")).toEqual([]);
  });
});
