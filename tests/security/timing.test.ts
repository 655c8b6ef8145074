import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, signUp } from "../support/client";
import { rawRequest } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";
import { unissuedToken } from "../support/tokens";

/**
 * A token nobody issued, a revoked one and an expired one take different paths after the lookup
 * (no row; a row refused as revoked; a row refused as expired) and must take the same time: a
 * steady difference would tell that a hash exists, or which check refused it. Each round sends,
 * in a shuffled order, two unknown tokens, the revoked one and the expired one; paired sign tests
 * compare each with the first unknown one and fail when one is steadily slower or faster by more
 * than TOLERANCE_MS. (The paths are not identical to the microsecond: a refused real token's
 * audit row names its token and user, which SQLite checks as foreign keys; tens of microseconds.)
 * The second unknown token is the control: its differences are pure noise, and from them the test
 * works out and prints the smallest steady difference this run would have caught.
 */
const ROUNDS = 1000;
/** The sign test's threshold in standard deviations: a false alarm about once in 30 000 runs per side. */
const THRESHOLD = 4;
/** Steady differences up to this are accepted; larger ones fail the test once the noise lets it see them. */
const TOLERANCE_MS = 0.1;
/** The test is only worth its claim if it can see a difference this small (an extra database round trip costs about this). */
const REQUIRED_RESOLUTION_MS = 1;
const DAY = 24 * 60 * 60 * 1000;

let databases: TestDatabases;
let server: TestServer;
let revoked: string;
let expired: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 1_000_000 } });
  const user = await signUp(server.url);
  const revokedToken = await createToken(server.url, user);
  revoked = revokedToken.secret;
  expect((await mutate(server.url, "token.revoke", { id: revokedToken.token.id }, { cookie: user.cookie })).status).toBe(200);
  expired = (await createToken(server.url, user, { expiresInDays: 30 })).secret;
  // The revoked token stays revoked (that check comes first); the other one is now past its expiry.
  server.clock.advance(31 * DAY);
});

afterAll(async () => {
  server?.clock.reset();
  await server?.close();
  await databases?.stop();
});

async function timed(token: string): Promise<{ ms: number; status: number; body: string; challenge: unknown }> {
  const started = process.hrtime.bigint();
  const response = await rawRequest(`${server.url}/api/trpc/identity.whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: response.status, body: response.body, challenge: response.headers["www-authenticate"] };
}

/**
 * The sign test against "at most `toleranceMs` slower" and "at most `toleranceMs` faster": how many
 * standard deviations of a fair coin the pairs beyond the tolerance are above half, on either side.
 */
function beyondTolerance(differences: number[], toleranceMs: number): { slower: number; faster: number; pairs: number } {
  const pairs = differences.length;
  const z = (count: number) => (count - pairs / 2) / Math.sqrt(pairs / 4);
  return {
    slower: z(differences.filter((d) => d > toleranceMs).length),
    faster: z(differences.filter((d) => d < -toleranceMs).length),
    pairs,
  };
}

const fails = (result: { slower: number; faster: number }) => result.slower >= THRESHOLD || result.faster >= THRESHOLD;

/** The smallest steady extra time (ms) that, added to the noise seen, would have failed the test. */
function smallestDetectable(noise: number[]): number {
  for (let shiftMs = 0; shiftMs <= 50; shiftMs += 0.001) {
    if (fails(beyondTolerance(noise.map((d) => d + shiftMs), TOLERANCE_MS))) return shiftMs;
  }
  return Infinity;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe(`timing (${testDatabaseProvider()})`, () => {
  it("refuses all three with 401 invalid_token; only the holder of a real secret is told revoked or expired", async () => {
    const [unknown, again, wasRevoked, wasExpired] = [await timed(unissuedToken()), await timed(unissuedToken()), await timed(revoked), await timed(expired)];
    for (const answer of [unknown, again, wasRevoked, wasExpired]) {
      expect(answer.status).toBe(401);
      expect(answer.challenge).toBe('Bearer realm="ona", error="invalid_token"');
    }
    expect(again.body).toBe(unknown.body);
    expect(wasRevoked.body).toMatch(/revoked/);
    expect(wasExpired.body).toMatch(/expired/);
  });

  it("takes the same time for an unknown, a revoked and an expired token, within what the test can detect", async () => {
    type Kind = "unknown" | "control" | "revoked" | "expired";
    const tokenOf = (kind: Kind) => (kind === "revoked" ? revoked : kind === "expired" ? expired : unissuedToken());
    // Warm up every path first.
    for (let i = 0; i < 20; i++) for (const kind of ["unknown", "revoked", "expired"] as const) await timed(tokenOf(kind));
    const times: Record<Kind, number[]> = { unknown: [], control: [], revoked: [], expired: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // A new order every round, so that neither drift in load nor a warmer connection favours one kind.
      for (const kind of shuffled<Kind>(["unknown", "control", "revoked", "expired"])) times[kind].push((await timed(tokenOf(kind))).ms);
    }
    const differencesFrom = (kind: Kind) => times[kind].map((ms, i) => ms - (times.unknown[i] ?? 0));
    const noise = differencesFrom("control");
    const resolution = smallestDetectable(noise);
    const report = (kind: Kind) => {
      const differences = differencesFrom(kind);
      const { slower, faster } = beyondTolerance(differences, TOLERANCE_MS);
      return (
        `${kind}: slower than unknown in ${differences.filter((d) => d > 0).length} of ${differences.length} pairs, ` +
        `beyond ±${TOLERANCE_MS} ms ${slower.toFixed(2)} σ slower / ${faster.toFixed(2)} σ faster, median ${median(times[kind]).toFixed(3)} ms`
      );
    };
    console.info(
      `timing (${testDatabaseProvider()}): ${ROUNDS} rounds; median unknown ${median(times.unknown).toFixed(3)} ms; ` +
        `${["control", "revoked", "expired"].map((kind) => report(kind as Kind)).join("; ")}; ` +
        `smallest steady difference this run could detect: ${(resolution * 1000).toFixed(0)} µs`,
    );
    // The noise alone must pass, and be small enough for the comparison to mean something.
    expect(fails(beyondTolerance(noise, TOLERANCE_MS)), report("control")).toBe(false);
    expect(resolution, "the smallest difference this run could detect (ms)").toBeLessThan(REQUIRED_RESOLUTION_MS);
    for (const kind of ["revoked", "expired"] as const) expect(fails(beyondTolerance(differencesFrom(kind), TOLERANCE_MS)), report(kind)).toBe(false);
  }, 300_000);
});
