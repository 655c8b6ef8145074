import { join } from "node:path";
import { openDatabase, type Database } from "@ona/db";
import { describe, expect, it } from "vitest";
import type { LocalRunner, StepEvent } from "../src";
import {
  RUNNING,
  STOPPED,
  createEnvironment,
  getEnvironment,
  logText,
  makeRepo,
  providersUnderTest,
  setDesiredPhase,
  tempDir,
  testRunner,
  useTestDatabases,
  waitFor,
} from "./helpers";

describe.each(providersUnderTest())("two runners on one %s database", (provider) => {
  const databases = useTestDatabases(provider);


  it("never work the same environment at once, and share the work", async () => {
    const testDb = await databases.fresh();
    // Each runner has its own connection, as separate processes would.
    const second: Database = await openDatabase(testDb.url);
    const environmentsDir = join(tempDir(), "environments");
    const events: (StepEvent & { seq: number })[] = [];
    let seq = 0;
    const onStep = (event: StepEvent): void => {
      events.push({ ...event, seq: seq++ });
    };
    const repo = makeRepo({ ".ona/setup.sh": "sleep 0.2\n" });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await createEnvironment(testDb.db, repo)).id);

    // Leases long enough that a loaded test machine does not let one expire under a working runner.
    const options = { leaseMs: 4_000, maxConcurrentEnvironments: 3, onStep };
    const runners: LocalRunner[] = [
      testRunner(testDb.db, environmentsDir, { ...options, processId: "runner-a" }),
      testRunner(second.db, environmentsDir, { ...options, processId: "runner-b" }),
    ];
    try {
      await Promise.all(runners.map((runner) => runner.start()));
      const allAt = (phase: string) => async () =>
        (await testDb.db.environment.count({ where: { id: { in: ids }, phase, leaseOwner: null } })) === ids.length;
      await waitFor("all RUNNING", allAt(RUNNING), 60_000);
      for (const id of ids) await setDesiredPhase(testDb.db, id, STOPPED);
      await waitFor("all STOPPED", allAt(STOPPED), 60_000);
      for (const id of ids) await setDesiredPhase(testDb.db, id, RUNNING);
      await waitFor("all RUNNING again", allAt(RUNNING), 60_000);
    } catch (error) {
      // What each environment was doing when the wait ran out.
      for (const id of ids) {
        const row = await getEnvironment(testDb.db, id);
        console.error(`${id}: ${row.phase} (lease ${row.leaseOwner ?? "none"}) ${row.failureMessage}\n${(await logText(testDb.db, id)).split("\n").slice(-6).join("\n")}`);
      }
      throw error;
    } finally {
      await Promise.all(runners.map((runner) => runner.stop()));
      await second.close();
    }

    for (const id of ids) {
      // In the order the steps happened (both runners are in this process, so the array order is real time).
      let working: string | null = null;
      for (const event of events.filter((e) => e.environmentId === id)) {
        if (event.event === "start") {
          expect(working, `${id}: ${event.processId} started ${event.step} while ${working ?? ""} was working`).toBeNull();
          working = event.processId;
        } else {
          expect(working).toBe(event.processId);
          working = null;
        }
      }
      // Six phase changes, each counted once: CREATING → STARTING → RUNNING → STOPPING → STOPPED → STARTING → RUNNING.
      expect((await getEnvironment(testDb.db, id)).statusVersion).toBe(6);
    }
    const workers = new Set(events.filter((e) => e.event === "start").map((e) => e.processId));
    expect([...workers].sort()).toEqual(["runner-a", "runner-b"]);
    await testDb.close();
  }, 240_000);
});
