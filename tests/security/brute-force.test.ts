import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenFromRandomBytes } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, signUp } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";

/** 1 000 guesses from one address hit the limit; a valid token from elsewhere never notices. */
const LIMIT = 30;
let databases: TestDatabases;
let server: TestServer;
let valid: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: LIMIT, authFailureWindowSeconds: 300 } });
  valid = (await createToken(server.url, await signUp(server.url))).secret;
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

function guess(i: number): string {
  // Alternate well-formed guesses (which reach the hash lookup) and malformed ones (which do not).
  return i % 2 === 0 ? (tokenFromRandomBytes(randomBytes(64)) ?? "") : `ona_pat_${randomBytes(19).toString("hex")}`;
}

describe(`brute force (${testDatabaseProvider()})`, () => {
  it("answers 429 with Retry-After after the limit while a valid token from another address keeps working", async () => {
    const statuses: number[] = [];
    const retryAfters: number[] = [];
    const validStatuses: number[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const guesses = Array.from({ length: 20 }, (_, i) =>
        rawRequest(`${server.url}/api/trpc/identity.whoami`, {
          headers: { authorization: `Bearer ${guess(batch * 20 + i)}` },
          localAddress: "127.0.0.1",
        }),
      );
      const legit = rawRequest(`${server.url}/api/trpc/identity.whoami`, {
        headers: { authorization: `Bearer ${valid}` },
        localAddress: "127.0.0.3",
      });
      for (const response of await Promise.all(guesses)) {
        statuses.push(response.status);
        if (response.status === 429) retryAfters.push(Number(response.headers["retry-after"]));
      }
      validStatuses.push((await legit).status);
    }
    expect(statuses).toHaveLength(1000);
    expect(new Set(statuses)).toEqual(new Set([401, 429]));
    // Concurrent guesses in the batch that crosses the limit may all be let through before the
    // count catches up, so allow one batch beyond the limit, never more.
    const unauthorized = statuses.filter((s) => s === 401).length;
    expect(unauthorized).toBeGreaterThanOrEqual(LIMIT);
    expect(unauthorized).toBeLessThanOrEqual(LIMIT + 20);
    expect(statuses.slice(LIMIT + 20).every((s) => s === 429)).toBe(true);
    expect(retryAfters.every((s) => Number.isInteger(s) && s > 0 && s <= 300)).toBe(true);
    expect(validStatuses.every((s) => s === 200)).toBe(true);
  });

  it("keeps refusing the guessing address, even with a valid token, within the window", async () => {
    const fromGuesser = await rawRequest(`${server.url}/api/trpc/identity.whoami`, {
      headers: { authorization: `Bearer ${valid}` },
      localAddress: "127.0.0.1",
    });
    expect(fromGuesser.status).toBe(429);
    const withoutCredentials = await rawRequest(`${server.url}/api/health`, { localAddress: "127.0.0.1" });
    expect(withoutCredentials.status).toBe(200);
  });
});

/**
 * The window itself. rate-limiter-flexible keeps its own time (Date.now() and timers, in memory
 * and in PostgreSQL), which a test clock cannot move; so this server gets a window of a couple of
 * seconds and the test waits for the real end of it, polling with a deadline.
 */
describe(`the failure window (${testDatabaseProvider()})`, () => {
  const WINDOW_SECONDS = 2;
  const WINDOW_LIMIT = 5;
  let windowed: TestServer;
  let token: string;

  beforeAll(async () => {
    windowed = await startTestServer({ databases, runner: false, config: { authFailureLimit: WINDOW_LIMIT, authFailureWindowSeconds: WINDOW_SECONDS } });
    token = (await createToken(windowed.url, await signUp(windowed.url))).secret;
  });
  afterAll(async () => {
    await windowed?.close();
  });

  const whoami = (authorization: string) =>
    rawRequest(`${windowed.url}/api/trpc/identity.whoami`, { headers: { authorization }, localAddress: "127.0.0.41" });

  it("refuses the address until the window that began with its first failure has passed, then lets its valid token in", async () => {
    const firstFailure = Date.now();
    for (let i = 0; i < WINDOW_LIMIT; i++) expect((await whoami(`Bearer ${guess(0)}`)).status).toBe(401);
    const limited = await whoami(`Bearer ${token}`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(WINDOW_SECONDS);

    const deadline = firstFailure + WINDOW_SECONDS * 1000 + 10_000;
    const answers: { at: number; status: number }[] = [];
    for (;;) {
      const sentAt = Date.now();
      const status = (await whoami(`Bearer ${token}`)).status;
      answers.push({ at: sentAt - firstFailure, status });
      if (status === 200) break;
      expect(status).toBe(429);
      if (Date.now() > deadline) throw new Error(`still refused ${Date.now() - firstFailure} ms after the first failure`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const firstAllowed = answers[answers.length - 1]?.at ?? 0;
    // Not before the window has passed (sent after the first failure, so the window began no earlier).
    expect(firstAllowed, JSON.stringify(answers)).toBeGreaterThanOrEqual(WINDOW_SECONDS * 1000);
    expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThan(0);
  });
});

/** Password guessing on sign-in: better-auth's limit (packages/api/src/auth.ts: 10 a minute per address). */
describe(`sign-in guessing (${testDatabaseProvider()})`, () => {
  it("answers 429 to the guessing address after 10 attempts, even with the right password, while another address signs in", async () => {
    const user = await signUp(server.url);
    const signIn = (password: string, localAddress: string) =>
      rawRequest(`${server.url}/api/auth/sign-in/email`, {
        method: "POST",
        localAddress,
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ email: user.email, password }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await signIn(`wrong password ${i}`, "127.0.0.42")).status);
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);
    expect((await signIn(user.password, "127.0.0.42")).status).toBe(429);
    expect((await signIn(user.password, "127.0.0.43")).status).toBe(200);
  });
});
