import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDuration, markEnvironmentsOfSilentRunners } from "../src";
import {
  RUNNING,
  STOPPED,
  createEnvironment,
  failures,
  getEnvironment,
  makeRepo,
  providersUnderTest,
  setDesiredPhase,
  tempDir,
  testRunner,
  useTestDatabases,
  waitFor,
} from "./helpers";

describe.each(providersUnderTest())("heartbeats and silent runners on %s", (provider) => {
  const databases = useTestDatabases(provider);


  it("a started runner keeps its heartbeat fresh", async () => {
    const testDb = await databases.fresh();
    const runner = testRunner(testDb.db, join(tempDir(), "environments"), { heartbeatIntervalMs: 50 });
    await runner.start();
    try {
      const first = (await testDb.db.runner.findUniqueOrThrow({ where: { id: "local" } })).lastHeartbeatAt;
      expect(first).not.toBeNull();
      await waitFor("a later heartbeat", async () => {
        const later = (await testDb.db.runner.findUniqueOrThrow({ where: { id: "local" } })).lastHeartbeatAt;
        return later !== null && first !== null && later.getTime() > first.getTime();
      });
    } finally {
      await runner.stop();
      await testDb.close();
    }
  });

  it("marks pending environments of a silent runner once, and the runner clears the mark when it works on them", async () => {
    const testDb = await databases.fresh();
    const { db } = testDb;
    const environmentsDir = join(tempDir(), "environments");
    const repo = makeRepo({});
    const pending = await createEnvironment(db, repo);
    const settled = await createEnvironment(db, repo);
    await db.environment.update({ where: { id: settled.id }, data: { phase: STOPPED, desiredPhase: STOPPED } });
    // An environment of a runner that never registered (its class is another runner's, which the model allows).
    const orphan = await createEnvironment(db, repo, { runnerId: "gone", classId: "local-small" });
    const heartbeat = (await db.runner.findUniqueOrThrow({ where: { id: "local" } })).lastHeartbeatAt;
    expect(heartbeat).not.toBeNull();
    const base = heartbeat?.getTime() ?? 0;

    // Runner "local" was heard from recently: only the unregistered runner's environment is marked.
    expect(await markEnvironmentsOfSilentRunners({ db, clock: () => new Date(base + 30_000), staleAfterMs: 120_000 })).toEqual([
      orphan.id,
    ]);

    const marked = await markEnvironmentsOfSilentRunners({ db, clock: () => new Date(base + 150_000), staleAfterMs: 120_000 });
    expect(marked).toEqual([pending.id]);
    expect(failures(await getEnvironment(db, pending.id))).toEqual([
      "runner local has not reported for 2 min; start the runner (pnpm ona-runner) or check its logs",
    ]);
    expect(failures(await getEnvironment(db, orphan.id))).toEqual([
      "runner gone is not registered; start the runner (pnpm ona-runner) or check its logs",
    ]);
    expect(failures(await getEnvironment(db, settled.id))).toEqual([]);

    // Once: a later check leaves the message as it was.
    await markEnvironmentsOfSilentRunners({ db, clock: () => new Date(base + 600_000), staleAfterMs: 120_000 });
    expect(failures(await getEnvironment(db, pending.id))[0]).toContain("for 2 min");

    // The runner comes back and takes the environment up: the mark goes.
    const runner = testRunner(db, environmentsDir);
    await runner.reconcileOnce();
    const row = await getEnvironment(db, pending.id);
    expect(row.phase).toBe(RUNNING);
    expect(failures(row)).toEqual([]);
    await setDesiredPhase(db, pending.id, STOPPED);
    await runner.reconcileOnce();
    await runner.stop();
    await testDb.close();
  });
});

describe("formatDuration", () => {
  it("says how long as a person would", () => {
    expect(formatDuration(45_000)).toBe("45 s");
    expect(formatDuration(125_000)).toBe("2 min");
    expect(formatDuration(3 * 3600_000 + 5)).toBe("3 h");
    expect(formatDuration(3 * 86_400_000)).toBe("3 days");
  });
});
