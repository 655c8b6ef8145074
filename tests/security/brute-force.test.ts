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

  it("keeps refusing the guessing address, even with a valid token, until the window passes", async () => {
    const fromGuesser = await rawRequest(`${server.url}/api/trpc/identity.whoami`, {
      headers: { authorization: `Bearer ${valid}` },
      localAddress: "127.0.0.1",
    });
    expect(fromGuesser.status).toBe(429);
    const withoutCredentials = await rawRequest(`${server.url}/api/health`, { localAddress: "127.0.0.1" });
    expect(withoutCredentials.status).toBe(200);
  });
});
