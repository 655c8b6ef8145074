import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_PREFIX } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, signUp, type SignedUpUser } from "../support/client";
import { rawRequest, rawSocketRequest, type RawResponse } from "../support/raw-http";
import { startTestServer, type Statement, type TestServer } from "../support/server";
import { unissuedToken } from "../support/tokens";

/**
 * Hostile and broken credentials, one case per assertion. Every answer is a 4xx that RFC 6750
 * allows (400 invalid_request, 401 with the Bearer challenge, 431 for a huge header), never 5xx,
 * never an echo of what was sent. Every case counts the statements the database received from
 * any client (on PostgreSQL from its own statement log, so the rate-limit store's pool counts
 * too) and so shows which step of the check order it reached: credentials refused before the
 * token lookup cost the database nothing; the others reach exactly one lookup.
 */
let databases: TestDatabases;
let server: TestServer;
let user: SignedUpUser;
let valid: string;
let other: SignedUpUser;
let port: number;

const WHOAMI = "/api/trpc/identity.whoami";

beforeAll(async () => {
  databases = await startTestDatabases(undefined, { logStatements: true });
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 100_000 } });
  port = Number(new URL(server.url).port);
  user = await signUp(server.url);
  other = await signUp(server.url);
  const created = await createToken(server.url, user);
  valid = created.secret;
  // Use the token once and wait for its last-used stamp to land: the stamp is written after the
  // answer, at most once a minute, so it cannot arrive in the middle of a counted case later.
  await send({ authorization: `Bearer ${valid}` });
  const deadline = Date.now() + 10_000;
  while (!(await server.database.db.personalAccessToken.findUniqueOrThrow({ where: { id: created.token.id } })).lastUsedAt) {
    if (Date.now() > deadline) throw new Error("the last-used stamp never landed");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

function flip(token: string, index: number): string {
  const c = token.charAt(index);
  return token.slice(0, index) + (c === "a" ? "b" : "a") + token.slice(index + 1);
}

async function send(headers: Record<string, string | string[]>, path = WHOAMI, method = "GET", body?: string) {
  return rawRequest(`${server.url}${path}`, { headers, method, ...(body === undefined ? {} : { body }) });
}

/** The hot path's token lookup (packages/api/src/services/tokens.ts), as both databases log it. */
const isTokenLookup = (statement: Statement) => statement.sql.includes('FROM "personal_access_token" t JOIN "user" u');

/** Which step of the check order a request reached, told by what the database received. */
type Step = "before the lookup" | "the lookup";

function expectStep(statements: Statement[], step: Step) {
  const described = statements.map((s) => s.sql.trim().slice(0, 80));
  if (step === "before the lookup") {
    expect(described, "refused before the lookup: the database receives nothing").toEqual([]);
  } else {
    expect(statements.filter(isTokenLookup), `exactly one token lookup among ${JSON.stringify(described)}`).toHaveLength(1);
  }
}

/** Sends one request, returns its answer and the statements it cost. */
async function counted(request: () => Promise<RawResponse>) {
  const { result, statements } = await server.statementsDuring(request);
  return { response: result, statements };
}

/** Sends one Authorization value and checks the common promises and the step it reached; returns the response. */
async function expectRefused(authorization: string | undefined, expected: 400 | 401, step: Step) {
  const { response, statements } = await counted(() => send(authorization === undefined ? {} : { authorization }));
  expect(response.status).toBe(expected);
  expect(response.headers["www-authenticate"]).toMatch(/^Bearer realm="ona"/);
  if (authorization) {
    const presented = authorization.replace(/^\S+\s*/, "");
    if (presented.length > 8) expect(response.body).not.toContain(presented);
  }
  expectStep(statements, step);
  return response;
}

describe(`the Authorization header (${testDatabaseProvider()})`, () => {
  it("01 no header: 401 with the bare Bearer challenge", async () => {
    const response = await expectRefused(undefined, 401, "before the lookup");
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona"');
  });
  it("02 'Bearer' with nothing: 400 invalid_request", async () => {
    const response = await expectRefused("Bearer", 400, "before the lookup");
    expect(response.headers["www-authenticate"]).toContain('error="invalid_request"');
  });
  it("03 'Bearer ' with only a space: 400", async () => {
    await expectRefused("Bearer ", 400, "before the lookup");
  });
  it("04 empty value: 401", async () => {
    await expectRefused("", 401, "before the lookup");
  });
  it("05 Basic credentials: 401 asking for Bearer", async () => {
    const response = await expectRefused("Basic dXNlcjpwYXNzd29yZA==", 401, "before the lookup");
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona"');
  });
  it("06 another scheme (Token …): 401", async () => {
    await expectRefused(`Token ${valid}`, 401, "before the lookup");
  });
  it("07 tab instead of a space: 400", async () => {
    await expectRefused(`Bearer\t${valid}`, 400, "before the lookup");
  });
  it("08 two tokens in one header: 400", async () => {
    await expectRefused(`Bearer ${valid} ${valid}`, 400, "before the lookup");
  });
  it("09 two Authorization headers: 400", async () => {
    const { response, statements } = await counted(() => send({ authorization: [`Bearer ${valid}`, `Bearer ${valid}`] }));
    expect(response.status).toBe(400);
    expect(response.headers["www-authenticate"]).toContain("invalid_request");
    expectStep(statements, "before the lookup");
  });
  it("10 several spaces before a bad token: 401 (RFC 6750 allows 1*SP; the token decides)", async () => {
    await expectRefused(`Bearer    ${flip(valid, 12)}`, 401, "before the lookup");
  });
  it("11 several spaces before a valid token: accepted, as RFC 6750's 1*SP says", async () => {
    const { response, statements } = await counted(() => send({ authorization: `Bearer   ${valid}` }));
    expect(response.status).toBe(200);
    expectStep(statements, "the lookup");
  });
  it("12 lowercase scheme with a bad token: 401 (schemes are case-insensitive; the token decides)", async () => {
    await expectRefused(`bearer ${flip(valid, 12)}`, 401, "before the lookup");
  });
  it("13 lowercase scheme with a valid token: accepted (RFC 7235 §2.1)", async () => {
    const { response, statements } = await counted(() => send({ authorization: `bearer ${valid}` }));
    expect(response.status).toBe(200);
    expectStep(statements, "the lookup");
  });
});

describe(`the token itself (${testDatabaseProvider()})`, () => {
  it("14 wrong prefix: 401 invalid_token, no lookup", async () => {
    const response = await expectRefused(`Bearer ghp_${valid.slice(TOKEN_PREFIX.length)}`, 401, "before the lookup");
    expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
  });
  it("15 uppercase prefix: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.replace(TOKEN_PREFIX, TOKEN_PREFIX.toUpperCase())}`, 401, "before the lookup");
  });
  it("16 right prefix, bad checksum: 401, no lookup", async () => {
    await expectRefused(`Bearer ${flip(valid, valid.length - 1)}`, 401, "before the lookup");
  });
  it("17 a changed character in the random part: 401, no lookup", async () => {
    await expectRefused(`Bearer ${flip(valid, TOKEN_PREFIX.length + 3)}`, 401, "before the lookup");
  });
  it("18 truncated by one: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.slice(0, -1)}`, 401, "before the lookup");
  });
  it("19 truncated to half: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.slice(0, 20)}`, 401, "before the lookup");
  });
  it("20 one extra character: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid}a`, 401, "before the lookup");
  });
  it("21 prefix only: 401, no lookup", async () => {
    await expectRefused(`Bearer ${TOKEN_PREFIX}`, 401, "before the lookup");
  });
  it("22 non-base62 characters: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.slice(0, 20)}-_${valid.slice(22)}`, 401, "before the lookup");
  });
  it("23 a trailing comma: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid},`, 401, "before the lookup");
  });
  it("24 quoted: 401, no lookup", async () => {
    await expectRefused(`Bearer "${valid}"`, 401, "before the lookup");
  });
  it("25 base64 padding: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid}==`, 401, "before the lookup");
  });
  it("26 a JWT: 401, no lookup", async () => {
    await expectRefused("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", 401, "before the lookup");
  });
  it("27 'null': 401, no lookup", async () => {
    await expectRefused("Bearer null", 401, "before the lookup");
  });
  it("28 'undefined': 401, no lookup", async () => {
    await expectRefused("Bearer undefined", 401, "before the lookup");
  });
  it("29 a 10 kB token: 401, no lookup", async () => {
    await expectRefused(`Bearer ${TOKEN_PREFIX}${"a".repeat(10_000)}`, 401, "before the lookup");
  });
  it("30 a well-formed token nobody issued (right checksum): it reaches the lookup, 401 that does not say revoked or expired", async () => {
    const response = await expectRefused(`Bearer ${unissuedToken()}`, 401, "the lookup");
    expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(response.body).not.toMatch(/revoked|expired/);
  });
  it("31 Unicode look-alikes (Cyrillic А for A): 401 invalid_token, no lookup", async () => {
    const lookAlike = `${valid.slice(0, 12)}А${valid.slice(13)}`;
    const { result, statements } = await server.statementsDuring(() =>
      rawSocketRequest(
        port,
        Buffer.concat([Buffer.from(`GET ${WHOAMI} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer `), Buffer.from(lookAlike, "utf8"), Buffer.from("\r\n\r\n")]),
      ),
    );
    expect(result.status).toBe(401);
    expect(result.raw).toContain('error="invalid_token"');
    expect(result.raw).not.toContain(valid.slice(TOKEN_PREFIX.length));
    expectStep(statements, "before the lookup");
  });
  /** Bytes no HTTP client sends: Node's parser must refuse them with 400 before the server sees a request. */
  async function expectParserRefuses(head: string) {
    const { result, statements } = await server.statementsDuring(() => rawSocketRequest(port, head));
    expect(result.status).toBe(400);
    expectStep(statements, "before the lookup");
  }
  it("32 a NUL byte in the header: refused by the HTTP parser with 400", async () => {
    await expectParserRefuses(`GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${valid}\0\r\n\r\n`);
  });
  it("33 a control byte in the header: 400", async () => {
    await expectParserRefuses(`GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \x01${valid}\r\n\r\n`);
  });
  it("34 a valid token folded onto a continuation line (obs-fold), a way to hide a second credential: the parser refuses it with 400", async () => {
    await expectParserRefuses(`GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${valid}\r\n Bearer ${valid}\r\n\r\n`);
  });
  it("35 a valid token ended by a bare LF and a header of the sender's: the parser refuses it with 400, the token is never accepted", async () => {
    await expectParserRefuses(`GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${valid}\nX-Junk: 1\r\n\r\n`);
  });
  it("36 a 1 MB header: 431", async () => {
    const { result, statements } = await server.statementsDuring(() =>
      rawSocketRequest(port, `GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${"a".repeat(1024 * 1024)}\r\n\r\n`),
    );
    expect(result.status).toBe(431);
    expectStep(statements, "before the lookup");
  });
});

describe(`tokens in the wrong place, and mixed credentials (${testDatabaseProvider()})`, () => {
  it("37 token in the query string (access_token): 400, not echoed, never read", async () => {
    const { response, statements } = await counted(() => rawRequest(`${server.url}${WHOAMI}?access_token=${valid}`));
    expect(response.status).toBe(400);
    expect(response.body).not.toContain(valid);
    expectStep(statements, "before the lookup");
  });
  it("38 token in the query string (token=): 400, never read", async () => {
    const { response, statements } = await counted(() => rawRequest(`${server.url}${WHOAMI}?token=${valid}`));
    expect(response.status).toBe(400);
    expectStep(statements, "before the lookup");
  });
  it("39 token in a form body: the body is refused as the wrong media type (415), the token never read", async () => {
    const { response, statements } = await counted(() =>
      send({ "content-type": "application/x-www-form-urlencoded" }, "/api/trpc/token.revoke", "POST", `access_token=${valid}`),
    );
    expect(response.status).toBe(415);
    expect(response.body).not.toContain(valid);
    expect(statements.filter(isTokenLookup)).toEqual([]);
  });
  it("40 token in a JSON body: ignored, so 401 as for no credentials", async () => {
    const { response, statements } = await counted(() =>
      send({ "content-type": "application/json" }, "/api/trpc/token.revoke", "POST", JSON.stringify({ id: "x", access_token: valid })),
    );
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona"');
    expect(statements.filter(isTokenLookup)).toEqual([]);
  });
  it("41 a bad token with a valid session cookie: the token decides (401), no fallback to the cookie", async () => {
    const { response, statements } = await counted(() => send({ authorization: `Bearer ${flip(valid, 12)}`, cookie: other.cookie }));
    expect(response.status).toBe(401);
    // Neither the token nor the session is looked up.
    expectStep(statements, "before the lookup");
  });
  it("42 a valid token with another user's cookie: the token's user", async () => {
    const response = await send({ authorization: `Bearer ${valid}`, cookie: other.cookie });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).result.data.user.id).toBe(user.userId);
  });
  it("43 a forged session cookie: 401", async () => {
    const response = await send({ cookie: "better-auth.session_token=forged.value" });
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona"');
  });
  it("44 a valid token still works after all of the above", async () => {
    expect((await send({ authorization: `Bearer ${valid}` })).status).toBe(200);
  });
});

describe(`each later step of the check order (${testDatabaseProvider()})`, () => {
  const DAY = 24 * 60 * 60 * 1000;

  it("45 revoked: 401 that says so, after one lookup", async () => {
    const created = await createToken(server.url, user);
    await mutate(server.url, "token.revoke", { id: created.token.id }, { cookie: user.cookie });
    const response = await expectRefused(`Bearer ${created.secret}`, 401, "the lookup");
    expect(JSON.parse(response.body).error.message).toMatch(/revoked/);
  });

  it("46 revoked and expired: revoked is checked first", async () => {
    const created = await createToken(server.url, user, { expiresInDays: 30 });
    await mutate(server.url, "token.revoke", { id: created.token.id }, { cookie: user.cookie });
    server.clock.advance(31 * DAY);
    try {
      const response = await expectRefused(`Bearer ${created.secret}`, 401, "the lookup");
      expect(JSON.parse(response.body).error.message).toMatch(/revoked/);
    } finally {
      server.clock.reset();
    }
  });

  it("47 the user deactivated: 401 that says so, after one lookup; expiry is checked before it", async () => {
    const member = await signUp(server.url);
    const active = await createToken(server.url, member, { accessLevel: "read-only" });
    const expiring = await createToken(server.url, member, { expiresInDays: 30 });
    await server.database.db.user.update({ where: { id: member.userId }, data: { active: false } });
    const response = await expectRefused(`Bearer ${active.secret}`, 401, "the lookup");
    expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(JSON.parse(response.body).error.message).toMatch(/deactivated/);
    // A read-only token of a deactivated user on a change: the user step comes before the access level (401, not 403).
    const write = await mutate(server.url, "token.revoke", { id: active.token.id }, { token: active.secret });
    expect(write.status).toBe(401);
    expect(write.error?.message).toMatch(/deactivated/);
    server.clock.advance(31 * DAY);
    try {
      const expired = await expectRefused(`Bearer ${expiring.secret}`, 401, "the lookup");
      expect(JSON.parse(expired.body).error.message).toMatch(/expired/);
    } finally {
      server.clock.reset();
    }
  });
});
