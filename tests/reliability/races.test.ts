import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditLogEntry, CreateTokenOutput, Environment } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type CallResult, type Credentials } from "../support/client";
import { makeRepository } from "../support/git";
import { startLockHolder, type LockHolder } from "../support/lock-holder";
import { startRunnerProcess, type RunnerProcess } from "../support/runner-process";
import { removeDataDir } from "../support/repositories";
import { startTestServer, type TestServer } from "../support/server";
import { PHASE, environmentOf, seededRandom, sleep, tail, waitUntil, withDiagnostics } from "./helpers";

const DB = testDatabaseProvider();
/**
 * What a writer that gave up waiting for a lock says (SQLite through Prisma: "Operation has timed
 * out", P1008), and PostgreSQL's equivalents. Whole words: a generated id such as "…mp100893…" in
 * a successful answer is not an error code.
 */
const LOCK_TROUBLE = /database is locked|SQLITE_BUSY|Operation has timed out|\bP1008\b|deadlock detected|could not serialize/i;

let databases: TestDatabases;

beforeAll(async () => {
  databases = await startTestDatabases();
});

afterAll(async () => {
  await databases?.stop();
});

const serverLog = (server: TestServer): string =>
  tail(server.logs.map((line) => `${line.level} ${line.message} ${line.fields ? JSON.stringify(line.fields) : ""}`).join("\n"));

/** A call's outcome, or the network error that took its place (never expected here, but recorded, not thrown). */
type Outcome = { ok: true; result: CallResult } | { ok: false; error: string };

async function settle(call: Promise<CallResult>): Promise<Outcome> {
  try {
    return { ok: true, result: await call };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error) };
  }
}

describe(`races (${DB})`, () => {
  it("refuses every request sent after the revoke returned, among 200 concurrent ones", async () => {
    // A high failure limit: the refused requests after the revoke must be 401s, not 429s.
    const server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 100_000 } });
    try {
      await withDiagnostics(async () => {
        await signUp(server.url); // the admin
        const user = await signUp(server.url);
        const { token, secret } = await createToken(server.url, user, { accessLevel: "read-write", description: "racing" });
        const decoy = await createToken(server.url, user, { description: "decoy" });
        const credentials: Credentials = { token: secret };
        // Reads and writes with the token: a write that succeeds every time (revoking an already revoked token is idempotent).
        await mutate(server.url, "token.revoke", { id: decoy.token.id }, credentials);
        const calls: (() => Promise<CallResult>)[] = [
          () => query(server.url, "identity.whoami", undefined, credentials),
          () => query(server.url, "token.list", {}, credentials),
          () => mutate(server.url, "token.revoke", { id: decoy.token.id }, credentials),
        ];

        const TOTAL = 200;
        const REVOKE_AFTER = 60;
        const LAST_BEFORE_WAITING = 140;
        const requests: { index: number; sentAt: number; outcome: Promise<Outcome> }[] = [];
        let revoke: Promise<{ result: CallResult; returnedAt: number }> | null = null;
        for (let index = 0; index < TOTAL; index++) {
          if (index === REVOKE_AFTER) {
            revoke = mutate(server.url, "token.revoke", { id: token.id }, { cookie: user.cookie }).then((result) => ({
              result,
              returnedAt: performance.now(),
            }));
          }
          // Keep some requests for after the revoke, however slow it is on a loaded machine.
          if (index === LAST_BEFORE_WAITING && revoke !== null) await revoke;
          const call = calls[index % calls.length];
          if (call === undefined) throw new Error("no call");
          const sentAt = performance.now();
          requests.push({ index, sentAt, outcome: settle(call()) });
          // Spread the sends out a little so that some are in flight while the revoke commits.
          if (index % 4 === 3) await sleep(1);
        }
        if (revoke === null) throw new Error("the revoke was never sent");
        const { result: revoked, returnedAt } = await revoke;
        expect(revoked.status, revoked.text).toBe(200);

        const outcomes = await Promise.all(requests.map(async (request) => ({ ...request, outcome: await request.outcome })));
        const after = outcomes.filter((request) => request.sentAt > returnedAt);
        const before = outcomes.filter((request) => request.sentAt <= returnedAt);
        // The test only means something if both sides are well populated.
        expect(after.length).toBeGreaterThanOrEqual(TOTAL - LAST_BEFORE_WAITING);
        expect(before.length).toBeGreaterThanOrEqual(REVOKE_AFTER);

        const describeOutcome = (request: (typeof outcomes)[number]): string =>
          `#${request.index} sent ${(request.sentAt - returnedAt).toFixed(1)} ms after the revoke returned: ` +
          (request.outcome.ok ? `${request.outcome.result.status} ${request.outcome.result.text.slice(0, 200)}` : request.outcome.error);

        const succeededAfter = after.filter((request) => request.outcome.ok && request.outcome.result.status === 200);
        expect(succeededAfter.map(describeOutcome), "requests sent after the revoke returned that succeeded").toEqual([]);
        for (const request of after) {
          if (!request.outcome.ok) throw new Error(`a request failed on the network: ${describeOutcome(request)}`);
          expect(request.outcome.result.status, describeOutcome(request)).toBe(401);
          expect(request.outcome.result.headers.get("www-authenticate"), describeOutcome(request)).toContain('error="invalid_token"');
          expect(request.outcome.result.error?.message, describeOutcome(request)).toMatch(/revoked/);
        }
        // Before the revoke returned, either answer is fine, but nothing else (no 5xx, no lost connection).
        for (const request of before) {
          if (!request.outcome.ok) throw new Error(`a request failed on the network: ${describeOutcome(request)}`);
          expect([200, 401], describeOutcome(request)).toContain(request.outcome.result.status);
        }
        const succeededBefore = before.filter((request) => request.outcome.ok && request.outcome.result.status === 200).length;
        console.info(
          `revoke race (${DB}): ${before.length} sent before the revoke returned (${succeededBefore} succeeded), ${after.length} after (all refused)`,
        );
        // The first REVOKE_AFTER were sent before the revoke was: the token was valid for them.
        expect(succeededBefore).toBeGreaterThanOrEqual(1);
      }, () => serverLog(server));
    } finally {
      await server.close();
    }
  }, 120_000);

  it("ends 50 concurrent stops and starts on one running environment in one consistent state, one audit entry per call", async () => {
    const server = await startTestServer({ databases });
    const random = seededRandom("stop/start race");
    let watching = true;
    let watcher: Promise<void> | null = null;
    try {
      await withDiagnostics(async () => {
        await signUp(server.url); // the admin
        const user = await signUp(server.url);
        const { token, secret } = await createToken(server.url, user, { accessLevel: "read-write" });
        const credentials: Credentials = { token: secret };
        // A setup that takes a moment (it runs once, at create; later starts reuse its result).
        const repository = makeRepository({ "README.md": "# race\n", ".ona/setup.sh": "#!/bin/sh\nsleep 0.3\necho ready > .setup-ran\n" });
        const created = await mutate(server.url, "environment.create", { contextUrl: repository }, credentials);
        expect(created.status, created.text).toBe(200);
        const id = environmentOf(created.data).id;
        const get = async (): Promise<Environment> => {
          const result = await query(server.url, "environment.get", { id }, credentials);
          expect(result.status, result.text).toBe(200);
          return environmentOf(result.data);
        };
        const running = await waitUntil(
          "the environment to run",
          async () => {
            const environment = await get();
            return environment.status.phase === PHASE.RUNNING ? environment : undefined;
          },
          { timeoutMs: 60_000, describe: async () => JSON.stringify(await get()) },
        );

        // Watch the observed state the whole time: statusVersion may only grow.
        const observed: { phase: string; desiredPhase: string; statusVersion: number }[] = [];
        watcher = (async () => {
          while (watching) {
            const row = await server.database.db.environment.findUnique({
              where: { id },
              select: { phase: true, desiredPhase: true, statusVersion: true },
            });
            if (row !== null) observed.push(row);
            await sleep(5);
          }
        })();

        const actions = random.shuffle([...Array<"stop">(25).fill("stop"), ...Array<"start">(25).fill("start")]);
        // In five bursts of ten sent at the same instant (so that calls race each other between reading
        // and writing the environment), the bursts a random moment apart within a second and a half
        // (so that they land while the runner is in the middle of steps).
        const burstAt = [0, ...Array.from({ length: 4 }, () => random.int(0, 1500))].sort((a, b) => a - b);
        const answers = (
          await Promise.all(
            burstAt.map(async (at, burst) => {
              await sleep(at);
              return Promise.all(
                actions.slice(burst * 10, burst * 10 + 10).map(async (action) => ({
                  action,
                  result: await mutate(server.url, `environment.${action}`, { id }, credentials),
                })),
              );
            }),
          )
        ).flat();
        expect(answers).toHaveLength(actions.length);
        for (const { action, result } of answers) {
          expect(result.status, `${action}: ${result.text}`).toBe(200);
          expect(environmentOf(result.data).id).toBe(id);
        }

        // The runner settles: phase equals the desired phase and stays so (nothing more to do).
        let stableSince = 0;
        let last = "";
        const settled = await waitUntil(
          "the environment to settle at its desired phase",
          async () => {
            const environment = await get();
            const key = `${environment.status.phase}/${environment.spec.desiredPhase}/${environment.status.statusVersion}`;
            if (environment.status.phase !== environment.spec.desiredPhase || key !== last) {
              last = key;
              stableSince = Date.now();
              return undefined;
            }
            return Date.now() - stableSince >= 1_500 ? environment : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 100, describe: async () => JSON.stringify(await get()) },
        );
        watching = false;
        await watcher;
        watcher = null;

        expect([PHASE.RUNNING, PHASE.STOPPED]).toContain(settled.spec.desiredPhase);
        expect(settled.status.phase).toBe(settled.spec.desiredPhase);
        expect(settled.status.failureMessage).toEqual([]);
        expect(settled.status.statusVersion).toBeGreaterThanOrEqual(running.status.statusVersion);
        const versions = observed.map((row) => row.statusVersion);
        for (let i = 1; i < versions.length; i++) {
          const previous = versions[i - 1] ?? 0;
          const current = versions[i] ?? 0;
          if (current < previous) throw new Error(`statusVersion went back from ${previous} to ${current} (observation ${i} of ${versions.length})`);
        }
        // A statusVersion names one observed status: the same number never comes with two phases.
        const phaseOfVersion = new Map<number, string>();
        for (const row of observed) {
          const earlier = phaseOfVersion.get(row.statusVersion);
          if (earlier !== undefined && earlier !== row.phase) {
            throw new Error(`statusVersion ${row.statusVersion} was seen with phase ${earlier} and with ${row.phase}`);
          }
          phaseOfVersion.set(row.statusVersion, row.phase);
        }
        const phasesSeen = new Set(observed.map((row) => row.phase));
        console.info(
          `stop/start race (${DB}): ${actions.filter((a) => a === "stop").length} stops, ${actions.filter((a) => a === "start").length} starts; ` +
            `phases seen ${[...phasesSeen].map((p) => p.replace("ENVIRONMENT_PHASE_", "")).join(", ")}; ` +
            `statusVersion ${running.status.statusVersion} → ${settled.status.statusVersion}; settled ${settled.status.phase}`,
        );

        // The audit log: exactly one entry per call, each a success with the token's id.
        const entries: AuditLogEntry[] = [];
        let nextToken: string | null = null;
        do {
          const page: CallResult = await query(
            server.url,
            "auditLog.list",
            { tokenId: token.id, subjectId: id, pageSize: 100, ...(nextToken === null ? {} : { nextToken }) },
            credentials,
          );
          expect(page.status, page.text).toBe(200);
          const data = page.data as { items: AuditLogEntry[]; nextToken: string | null };
          entries.push(...data.items);
          nextToken = data.nextToken;
        } while (nextToken !== null);
        const forCalls = entries.filter((entry) => entry.action === "environment.stop" || entry.action === "environment.start");
        expect(forCalls.filter((entry) => entry.action === "environment.stop")).toHaveLength(actions.filter((a) => a === "stop").length);
        expect(forCalls.filter((entry) => entry.action === "environment.start")).toHaveLength(actions.filter((a) => a === "start").length);
        for (const entry of forCalls) {
          expect(entry).toMatchObject({ outcome: "success", tokenId: token.id, actorId: user.userId, subjectType: "environment", subjectId: id });
        }
        expect(entries.filter((entry) => entry.action === "environment.create")).toHaveLength(1);
        expect(entries).toHaveLength(actions.length + 1);
      }, () => serverLog(server));
    } finally {
      // A failed assertion leaves the watcher running: stop it before the database goes away.
      watching = false;
      await (watcher as Promise<void> | null)?.catch(() => undefined);
      await server.close();
    }
  }, 240_000);

  it(`never answers "database is locked" or 5xx under 50 concurrent writers, with a runner process writing too`, async () => {
    // The API in this process, the runner in its own, on the same database: two processes
    // writing at once, which is where SQLite's lock is contended.
    const server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 100_000 } });
    const dataDir = mkdtempSync(join(tmpdir(), "ona-race-runner-"));
    let runner: RunnerProcess | null = null;
    let lockHolder: LockHolder | null = null;
    const random = seededRandom("concurrent writers");
    try {
      await withDiagnostics(async () => {
        runner = await startRunnerProcess({
          databaseUrl: server.databaseUrl,
          dataDir,
          secret: "race-test-secret-0123456789abcdef0123456789abcdef",
        });
        await signUp(server.url); // the admin
        const users = [];
        for (let i = 0; i < 5; i++) users.push(await signUp(server.url));
        const writers: { userIndex: number; secret: string }[] = [];
        const victims: { userIndex: number; token: CreateTokenOutput }[] = [];
        for (const [userIndex, user] of users.entries()) {
          writers.push({ userIndex, secret: (await createToken(server.url, user, { description: `writer ${userIndex}` })).secret });
          for (let i = 0; i < 8; i++) victims.push({ userIndex, token: await createToken(server.url, user, { description: `victim ${i}` }) });
        }
        // A setup with some output: the runner process writes log batches while the writers run.
        const repository = makeRepository({
          "README.md": "# writers\n",
          ".ona/setup.sh": "#!/bin/sh\nfor i in 1 2 3 4 5; do seq 1 50; sleep 0.05; done\necho set up\n",
        });

        const ROUNDS = 2;
        const all: { kind: string; outcome: Outcome }[] = [];
        // A third writer that keeps taking the write lock for a moment: the writers must wait for it, not fail.
        lockHolder = startLockHolder(server.databaseUrl, { holdMs: 100, pauseMs: 100 });
        await waitUntil("the lock holder to hold the lock", async () => (lockHolder?.holds() ?? 0) > 0 || undefined, {
          timeoutMs: 30_000,
          intervalMs: 20,
          describe: () => lockHolder?.output() ?? "",
        });
        const holdsBefore = lockHolder.holds();
        const environmentIds: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          if (round > 0) {
            // Fire the next round while the runner process is busy writing (cloning, logging, changing phases).
            await waitUntil(
              "the runner process to be at work",
              async () =>
                (await server.database.db.environment.count({
                  where: { id: { in: environmentIds }, phase: { in: [PHASE.CREATING, PHASE.STARTING] }, leaseOwner: { not: null } },
                })) > 0 || undefined,
              { timeoutMs: 60_000, intervalMs: 20 },
            );
          }
          const jobs: { kind: string; run: () => Promise<CallResult> }[] = [];
          for (let i = 0; i < 15; i++) {
            const user = random.pick(users);
            jobs.push({ kind: "token.create (session)", run: () => createTokenCall(server.url, user.cookie, `round ${round} #${i}`) });
          }
          for (let i = 0; i < 15; i++) {
            const writer = random.pick(writers);
            jobs.push({
              kind: "environment.create (token)",
              run: () => mutate(server.url, "environment.create", { contextUrl: repository, name: `r${round}-${i}` }, { token: writer.secret }),
            });
          }
          for (let i = 0; i < 20; i++) {
            const victim = victims.pop();
            if (victim === undefined) throw new Error("out of tokens to revoke");
            const writer = writers[victim.userIndex];
            if (writer === undefined) throw new Error("no writer for the victim's user");
            jobs.push({ kind: "token.revoke (token)", run: () => mutate(server.url, "token.revoke", { id: victim.token.token.id }, { token: writer.secret }) });
          }
          expect(jobs).toHaveLength(50);
          const outcomes = await Promise.all(random.shuffle(jobs).map(async (job) => ({ kind: job.kind, outcome: await settle(job.run()) })));
          all.push(...outcomes);
          for (const { kind, outcome } of outcomes) {
            if (outcome.ok && kind.startsWith("environment.create") && outcome.result.status === 200) {
              environmentIds.push(environmentOf(outcome.result.data).id);
            }
          }
        }

        const holds = (await lockHolder.stop()) - holdsBefore;
        lockHolder = null;
        console.info(`concurrent writers (${DB}): ${all.length} writes while another process took the write lock ${holds} times`);
        // The contention really happened: the lock was taken again and again while the writers ran.
        expect(holds).toBeGreaterThanOrEqual(4);

        const problems = all.filter(
          ({ outcome }) => !outcome.ok || outcome.result.status !== 200 || LOCK_TROUBLE.test(outcome.result.text),
        );
        expect(
          problems.map(({ kind, outcome }) => `${kind}: ${outcome.ok ? `${outcome.result.status} ${outcome.result.text.slice(0, 300)}` : outcome.error}`),
        ).toEqual([]);

        // The runner process worked through the creates while the writers ran; it must have got
        // every environment running without a lock error of its own.
        await waitUntil(
          "every created environment to run",
          async () => {
            const rows = await server.database.db.environment.findMany({
              where: { id: { in: environmentIds } },
              select: { id: true, phase: true, failureMessage: true },
            });
            const failed = rows.filter((row) => row.failureMessage !== "[]");
            if (failed.length > 0) throw new Error(`environments failed: ${JSON.stringify(failed)}`);
            return rows.length === environmentIds.length && rows.every((row) => row.phase === PHASE.RUNNING) ? rows : undefined;
          },
          {
            timeoutMs: 150_000,
            intervalMs: 250,
            describe: async () =>
              JSON.stringify(
                await server.database.db.environment.groupBy({ by: ["phase"], where: { id: { in: environmentIds } }, _count: true }),
              ),
          },
        );
        expect(environmentIds).toHaveLength(15 * ROUNDS);

        const output = runner?.output() ?? "";
        expect(output).not.toMatch(LOCK_TROUBLE);
        expect(serverLog(server)).not.toMatch(LOCK_TROUBLE);
        expect(server.logs.filter((line) => line.level === "error").map((line) => `${line.message} ${JSON.stringify(line.fields)}`)).toEqual([]);
      }, () =>
        `server log:\n${serverLog(server)}\n\nrunner output:\n${tail((runner as RunnerProcess | null)?.output() ?? "(not started)")}` +
        `\n\nlock holder:\n${tail((lockHolder as LockHolder | null)?.output() ?? "(stopped)", 20)}`);
    } finally {
      await (lockHolder as LockHolder | null)?.stop().catch(() => undefined);
      await (runner as RunnerProcess | null)?.stop();
      await server.close();
      await removeDataDir(dataDir);
    }
  }, 300_000);
});

function createTokenCall(base: string, cookie: string, description: string): Promise<CallResult> {
  return mutate(base, "token.create", { description, expiresInDays: 30, accessLevel: "read-write" }, { cookie });
}
