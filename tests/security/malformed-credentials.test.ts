import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_PREFIX } from "@ona/contracts";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { createToken, signUp, type SignedUpUser } from "../support/client";
import { rawRequest, rawSocketRequest } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";

/**
 * Hostile and broken credentials, one case per assertion. Every answer is a 4xx that RFC 6750
 * allows (400 invalid_request, 401 with the Bearer challenge, 431 for a huge header), never 5xx,
 * never an echo of what was sent; tokens that fail the format check never reach the database.
 */
let databases: TestDatabases;
let server: TestServer;
let user: SignedUpUser;
let valid: string;
let other: SignedUpUser;
let port: number;

const WHOAMI = "/api/trpc/identity.whoami";

beforeAll(async () => {
  databases = await startTestDatabases();
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

/** Sends one Authorization value and checks the common promises; returns the response. */
async function expectRefused(authorization: string | undefined, expected: 400 | 401, options: { noDatabase?: boolean } = {}) {
  server.queries.length = 0;
  const response = await send(authorization === undefined ? {} : { authorization });
  expect(response.status).toBe(expected);
  expect(response.headers["www-authenticate"]).toMatch(/^Bearer realm="ona"/);
  if (authorization) {
    const presented = authorization.replace(/^\S+\s*/, "");
    if (presented.length > 8) expect(response.body).not.toContain(presented);
  }
  if (options.noDatabase) {
    expect(server.queries, "a malformed token must cost the database nothing").toEqual([]);
  }
  return response;
}

describe("the Authorization header", () => {
  it("01 no header: 401 with the bare Bearer challenge", async () => {
    const response = await expectRefused(undefined, 401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona"');
  });
  it("02 'Bearer' with nothing: 400 invalid_request", async () => {
    const response = await expectRefused("Bearer", 400);
    expect(response.headers["www-authenticate"]).toContain('error="invalid_request"');
  });
  it("03 'Bearer ' with only a space: 400", async () => {
    await expectRefused("Bearer ", 400);
  });
  it("04 empty value: 401", async () => {
    await expectRefused("", 401);
  });
  it("05 Basic credentials: 401 asking for Bearer", async () => {
    const response = await expectRefused("Basic dXNlcjpwYXNzd29yZA==", 401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="ona"');
  });
  it("06 another scheme (Token …): 401", async () => {
    await expectRefused(`Token ${valid}`, 401);
  });
  it("07 tab instead of a space: 400", async () => {
    await expectRefused(`Bearer\t${valid}`, 400);
  });
  it("08 two tokens in one header: 400", async () => {
    await expectRefused(`Bearer ${valid} ${valid}`, 400);
  });
  it("09 two Authorization headers: 400", async () => {
    const response = await send({ authorization: [`Bearer ${valid}`, `Bearer ${valid}`] });
    expect(response.status).toBe(400);
    expect(response.headers["www-authenticate"]).toContain("invalid_request");
  });
  it("10 several spaces before a bad token: 401 (RFC 6750 allows 1*SP; the token decides)", async () => {
    await expectRefused(`Bearer    ${flip(valid, 12)}`, 401, { noDatabase: true });
  });
  it("11 several spaces before a valid token: accepted, as RFC 6750's 1*SP says", async () => {
    expect((await send({ authorization: `Bearer   ${valid}` })).status).toBe(200);
  });
  it("12 lowercase scheme with a bad token: 401 (schemes are case-insensitive; the token decides)", async () => {
    await expectRefused(`bearer ${flip(valid, 12)}`, 401, { noDatabase: true });
  });
  it("13 lowercase scheme with a valid token: accepted (RFC 7235 §2.1)", async () => {
    expect((await send({ authorization: `bearer ${valid}` })).status).toBe(200);
  });
});

describe("the token itself", () => {
  it("14 wrong prefix: 401 invalid_token, no lookup", async () => {
    const response = await expectRefused(`Bearer ghp_${valid.slice(TOKEN_PREFIX.length)}`, 401, { noDatabase: true });
    expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
  });
  it("15 uppercase prefix: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.replace(TOKEN_PREFIX, TOKEN_PREFIX.toUpperCase())}`, 401, { noDatabase: true });
  });
  it("16 right prefix, bad checksum: 401, no lookup", async () => {
    await expectRefused(`Bearer ${flip(valid, valid.length - 1)}`, 401, { noDatabase: true });
  });
  it("17 a changed character in the random part: 401, no lookup", async () => {
    await expectRefused(`Bearer ${flip(valid, TOKEN_PREFIX.length + 3)}`, 401, { noDatabase: true });
  });
  it("18 truncated by one: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.slice(0, -1)}`, 401, { noDatabase: true });
  });
  it("19 truncated to half: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.slice(0, 20)}`, 401, { noDatabase: true });
  });
  it("20 one extra character: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid}a`, 401, { noDatabase: true });
  });
  it("21 prefix only: 401, no lookup", async () => {
    await expectRefused(`Bearer ${TOKEN_PREFIX}`, 401, { noDatabase: true });
  });
  it("22 non-base62 characters: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid.slice(0, 20)}-_${valid.slice(22)}`, 401, { noDatabase: true });
  });
  it("23 a trailing comma: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid},`, 401, { noDatabase: true });
  });
  it("24 quoted: 401, no lookup", async () => {
    await expectRefused(`Bearer "${valid}"`, 401, { noDatabase: true });
  });
  it("25 base64 padding: 401, no lookup", async () => {
    await expectRefused(`Bearer ${valid}==`, 401, { noDatabase: true });
  });
  it("26 a JWT: 401, no lookup", async () => {
    await expectRefused("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", 401, { noDatabase: true });
  });
  it("27 'null': 401, no lookup", async () => {
    await expectRefused("Bearer null", 401, { noDatabase: true });
  });
  it("28 'undefined': 401, no lookup", async () => {
    await expectRefused("Bearer undefined", 401, { noDatabase: true });
  });
  it("29 a 10 kB token: 401, no lookup", async () => {
    await expectRefused(`Bearer ${TOKEN_PREFIX}${"a".repeat(10_000)}`, 401, { noDatabase: true });
  });
  it("30 a well-formed token nobody issued: 401 that does not say revoked or expired", async () => {
    const response = await expectRefused(`Bearer ${TOKEN_PREFIX}${"Z".repeat(32)}000000`.replace(/000000$/, "000000"), 401);
    expect(response.body).not.toMatch(/revoked|expired/);
  });
  it("31 Unicode look-alikes (Cyrillic А for A): 400 or 401, never 5xx", async () => {
    const lookAlike = `${valid.slice(0, 12)}А${valid.slice(13)}`;
    const { status, raw } = await rawSocketRequest(
      port,
      Buffer.concat([Buffer.from(`GET ${WHOAMI} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer `), Buffer.from(lookAlike, "utf8"), Buffer.from("\r\n\r\n")]),
    );
    expect([400, 401]).toContain(status);
    expect(raw).not.toContain(valid.slice(TOKEN_PREFIX.length));
  });
  it("32 a NUL byte in the header: refused by the HTTP parser with 400", async () => {
    const { status } = await rawSocketRequest(port, `GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${valid}\0\r\n\r\n`);
    expect(status).toBe(400);
  });
  it("33 a control byte in the header: 400", async () => {
    const { status } = await rawSocketRequest(port, `GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \x01${valid}\r\n\r\n`);
    expect(status).toBe(400);
  });
  it("34 CR/LF smuggling a second header: the token part alone is judged (401), nothing injected", async () => {
    const { status, raw } = await rawSocketRequest(
      port,
      `GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ona_pat_x\r\nX-Admin: 1\r\n\r\n`,
    );
    expect(status).toBe(401);
    expect(raw).not.toContain("X-Admin");
  });
  it("35 a bare LF after the token: never accepted as a valid credential with junk, never 5xx", async () => {
    const { status } = await rawSocketRequest(port, `GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${valid}x\n\r\n`);
    expect([400, 401]).toContain(status);
  });
  it("36 a 1 MB header: 431", async () => {
    const { status } = await rawSocketRequest(port, `GET ${WHOAMI} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${"a".repeat(1024 * 1024)}\r\n\r\n`);
    expect(status).toBe(431);
  });
});

describe("tokens in the wrong place, and mixed credentials", () => {
  it("37 token in the query string (access_token): 400, not echoed", async () => {
    const response = await rawRequest(`${server.url}${WHOAMI}?access_token=${valid}`);
    expect(response.status).toBe(400);
    expect(response.body).not.toContain(valid);
  });
  it("38 token in the query string (token=): 400", async () => {
    expect((await rawRequest(`${server.url}${WHOAMI}?token=${valid}`)).status).toBe(400);
  });
  it("39 token in a form body: the body is refused as the wrong media type (415), the token never read", async () => {
    const response = await send({ "content-type": "application/x-www-form-urlencoded" }, "/api/trpc/token.revoke", "POST", `access_token=${valid}`);
    expect(response.status).toBe(415);
    expect(response.body).not.toContain(valid);
  });
  it("40 token in a JSON body: ignored, so 401", async () => {
    const response = await send({ "content-type": "application/json" }, "/api/trpc/token.revoke", "POST", JSON.stringify({ id: "x", access_token: valid }));
    expect(response.status).toBe(401);
  });
  it("41 a bad token with a valid session cookie: the token decides (401), no fallback to the cookie", async () => {
    const response = await send({ authorization: `Bearer ${flip(valid, 12)}`, cookie: other.cookie });
    expect(response.status).toBe(401);
  });
  it("42 a valid token with another user's cookie: the token's user", async () => {
    const response = await send({ authorization: `Bearer ${valid}`, cookie: other.cookie });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).result.data.user.id).toBe(user.userId);
  });
  it("43 a forged session cookie: 401", async () => {
    const response = await send({ cookie: "better-auth.session_token=forged.value" });
    expect(response.status).toBe(401);
  });
  it("44 a valid token still works after all of the above", async () => {
    expect((await send({ authorization: `Bearer ${valid}` })).status).toBe(200);
  });
});
