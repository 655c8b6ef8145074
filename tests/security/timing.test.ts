import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_PREFIX, TOKEN_RANDOM_LENGTH, crc32, toBase62, tokenFromRandomBytes } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, signUp } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";

/**
 * An unknown token and an issued token with a wrong secret (one character of its random part
 * changed, checksum recomputed so it passes the format check) must be indistinguishable:
 * same status, same body, and response times a test cannot tell apart beyond noise.
 */
const SAMPLES = 400;
let databases: TestDatabases;
let server: TestServer;
let issued: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 1_000_000 } });
  issued = (await createToken(server.url, await signUp(server.url))).secret;
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

/** The issued token with one random character changed and a valid checksum. */
function nearMiss(token: string, index: number): string {
  const body = token.slice(0, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH);
  const position = TOKEN_PREFIX.length + (index % TOKEN_RANDOM_LENGTH);
  const changed = body.slice(0, position) + (body.charAt(position) === "Q" ? "R" : "Q") + body.slice(position + 1);
  return changed + toBase62(crc32(changed), 6);
}

async function timed(token: string): Promise<{ ms: number; status: number; body: string }> {
  const started = process.hrtime.bigint();
  const response = await rawRequest(`${server.url}/api/trpc/identity.whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: response.status, body: response.body };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

describe(`timing (${testDatabaseProvider()})`, () => {
  it("answers an unknown token and a near-miss of an issued one identically", async () => {
    const unknown = tokenFromRandomBytes(randomBytes(64)) ?? "";
    const [a, b] = [await timed(unknown), await timed(nearMiss(issued, 3))];
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(b.body).toBe(a.body);
  });

  it("takes the same time for both, within noise", async () => {
    // Warm up both paths, then interleave so drift in machine load hits both alike.
    for (let i = 0; i < 20; i++) {
      await timed(tokenFromRandomBytes(randomBytes(64)) ?? "");
      await timed(nearMiss(issued, i));
    }
    const unknownTimes: number[] = [];
    const nearTimes: number[] = [];
    const differences: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const unknown = tokenFromRandomBytes(randomBytes(64)) ?? "";
      // Alternate which goes first, so neither profits from a warmer connection or cache.
      const [u, n] = i % 2 === 0 ? [await timed(unknown), await timed(nearMiss(issued, i))] : [undefined, await timed(nearMiss(issued, i))];
      const u2 = u ?? (await timed(unknown));
      unknownTimes.push(u2.ms);
      nearTimes.push(n.ms);
      differences.push(n.ms - u2.ms);
    }
    // Sign test on the pairs: with no difference, which of the two is slower is a coin toss, so
    // the count of "near-miss slower" is Binomial(n, ½). A steady offset of any size — an extra
    // database read, a byte-by-byte compare that exits early — pushes the count to one side;
    // 4 standard deviations leaves a false alarm at about 1 in 15 000 runs.
    const slower = differences.filter((d) => d > 0).length;
    const ties = differences.filter((d) => d === 0).length;
    const n = SAMPLES - ties;
    const deviation = Math.abs(slower - n / 2) / Math.sqrt(n / 4);
    expect(deviation, `near-miss slower in ${slower} of ${n} pairs; medians ${median(nearTimes).toFixed(2)} vs ${median(unknownTimes).toFixed(2)} ms`).toBeLessThan(4);
  });
});
