import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listProcedures } from "@ona/api";
import type { Environment } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type CallResult, type Credentials } from "../support/client";
import { makeRepository } from "../support/git";
import { startTestServer, type TestServer } from "../support/server";

/**
 * Every procedure × every kind of caller, with the expected status from ONE table. A procedure
 * added to the router without a row here fails the first test.
 *
 * Callers: the resource owner's read-only token, read & write token and browser session;
 * another member's read & write token; the admin's browser session; nobody.
 */
type Caller = "none" | "readOnly" | "readWrite" | "session" | "otherUser" | "admin";
type Expectation = Record<Caller, number>;

const read = (other: number, admin = 200): Expectation => ({ none: 401, readOnly: 200, readWrite: 200, session: 200, otherUser: other, admin });
const write = (other: number, admin = 200): Expectation => ({ none: 401, readOnly: 403, readWrite: 200, session: 200, otherUser: other, admin });

const MATRIX: Record<string, Expectation> = {
  "identity.whoami": read(200),
  "token.create": { none: 401, readOnly: 403, readWrite: 403, session: 200, otherUser: 403, admin: 200 },
  "token.list": read(200),
  // Tokens are private even from admins: another user's token answers not found.
  "token.get": read(404, 404),
  "token.revoke": write(404, 404),
  "environment.create": write(200),
  "environment.list": read(200),
  // Admins see and act on every environment; other members get not found.
  "environment.get": read(404),
  "environment.start": write(404),
  "environment.stop": write(404),
  "environment.delete": write(404),
  "environment.logs": read(404),
  "environment.exec": write(404),
  "environmentClass.list": read(200),
  "auditLog.list": read(200),
};

let databases: TestDatabases;
let server: TestServer;
let credentials: Record<Caller, Credentials>;
let owner: Awaited<ReturnType<typeof signUp>>;
let ownerToken: string;
let repository: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases });
  const admin = await signUp(server.url);
  owner = await signUp(server.url);
  const other = await signUp(server.url);
  ownerToken = (await createToken(server.url, owner, { accessLevel: "read-write" })).secret;
  credentials = {
    none: null,
    readOnly: { token: (await createToken(server.url, owner, { accessLevel: "read-only" })).secret },
    readWrite: { token: ownerToken },
    session: { cookie: owner.cookie },
    otherUser: { token: (await createToken(server.url, other, { accessLevel: "read-write" })).secret },
    admin: { cookie: admin.cookie },
  };
  repository = makeRepository();
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

async function runningEnvironment(): Promise<string> {
  const created = await mutate(server.url, "environment.create", { contextUrl: repository }, { token: ownerToken });
  const id = (created.data as { environment: Environment }).environment.id;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const got = await query(server.url, "environment.get", { id }, { token: ownerToken });
    if ((got.data as { environment: Environment }).environment.status.phase === "ENVIRONMENT_PHASE_RUNNING") return id;
    if (Date.now() > deadline) throw new Error(`environment ${id} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A valid input for each procedure, made fresh per call where the call consumes it. */
async function inputFor(path: string): Promise<unknown> {
  switch (path) {
    case "token.create":
      return { description: "matrix", expiresInDays: 30, accessLevel: "read-only" };
    case "token.get":
    case "token.revoke":
      return { id: (await createToken(server.url, owner)).token.id };
    case "environment.create":
      return { contextUrl: repository };
    case "environment.get":
    case "environment.start":
    case "environment.stop":
    case "environment.delete":
    case "environment.logs":
      return { id: await runningEnvironment() };
    case "environment.exec":
      return { id: await runningEnvironment(), command: ["true"] };
    case "environment.list":
    case "token.list":
    case "auditLog.list":
      return {};
    default:
      return undefined;
  }
}

const procedures = listProcedures();

describe(`access matrix (${testDatabaseProvider()})`, () => {
  it("has a row for every procedure and no row for a procedure that does not exist", () => {
    expect(Object.keys(MATRIX).sort()).toEqual(procedures.map((p) => p.path).sort());
  });

  for (const caller of ["none", "readOnly", "readWrite", "session", "otherUser", "admin"] as const) {
    it(`answers ${caller} as the table says`, async () => {
      const actual: Record<string, number> = {};
      for (const { path, type } of procedures) {
        const input = await inputFor(path);
        const result: CallResult =
          type === "mutation"
            ? await mutate(server.url, path, input, credentials[caller])
            : await query(server.url, path, input, credentials[caller]);
        actual[path] = result.status;
      }
      const expected = Object.fromEntries(procedures.map(({ path }) => [path, MATRIX[path]?.[caller]]));
      expect(actual).toEqual(expected);
    });
  }
});
