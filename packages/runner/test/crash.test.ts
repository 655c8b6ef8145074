import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { LocalRunner } from "../src";
import {
  RUNNING,
  STARTING,
  createEnvironment,
  getEnvironment,
  logText,
  makeRepo,
  pidAlive,
  providersUnderTest,
  tempDir,
  testRunner,
  useTestDatabases,
  waitFor,
  type TestDb,
} from "./helpers";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const LEASE_MS = 1_500;

function startRunnerProcess(url: string, environmentsDir: string, processId: string): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(packageDir, "test/fixtures/runner-process.ts")], {
    cwd: packageDir,
    env: {
      ...process.env,
      TEST_DATABASE_URL: url,
      TEST_ENVIRONMENTS_DIR: environmentsDir,
      TEST_PROCESS_ID: processId,
      TEST_LEASE_MS: String(LEASE_MS),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

describe.each(providersUnderTest())("a runner killed mid-start, on %s", (provider) => {
  const databases = useTestDatabases(provider);
  let testDb: TestDb;
  let child: ChildProcess | undefined;
  let successor: LocalRunner | undefined;

  afterEach(async () => {
    child?.kill("SIGKILL");
    await successor?.stop();
    await testDb.close();
  });

  it("is taken over by another runner once its lease expires, and the environment ends RUNNING", async () => {
    testDb = await databases.fresh();
    const work = tempDir();
    const environmentsDir = join(work, "environments");
    const markers = join(work, "markers");
    mkdirSync(markers);
    // The first attempt hangs in setup (where the runner is killed); the second finishes.
    const repo = makeRepo({
      ".ona/setup.sh": [
        `echo $$ >> ${markers}/attempts`,
        `if [ "$(wc -l < ${markers}/attempts)" -eq 1 ]; then echo "first attempt, hanging"; sleep 60; fi`,
        `echo finished >> ${markers}/finished`,
        "",
      ].join("\n"),
    });
    const env = await createEnvironment(testDb.db, repo);

    child = startRunnerProcess(testDb.url, environmentsDir, "doomed-runner");
    const attempts = join(markers, "attempts");
    await waitFor("the setup to start in the child runner", async () => existsSync(attempts), 20_000);
    const firstSetupPid = Number(readFileSync(attempts, "utf8").trim());
    child.kill("SIGKILL");
    await new Promise((resolve) => child?.once("exit", resolve));
    child = undefined;

    const orphaned = await getEnvironment(testDb.db, env.id);
    expect(orphaned.phase).toBe(STARTING);
    expect(orphaned.leaseOwner).toBe("doomed-runner");
    // Its setup outlived it (it leads its own process group).
    expect(pidAlive(firstSetupPid)).toBe(true);

    successor = testRunner(testDb.db, environmentsDir, { leaseMs: LEASE_MS, processId: "successor" });
    await successor.start();
    const row = await waitFor(
      "RUNNING, with the lease given back",
      async () => {
        const current = await getEnvironment(testDb.db, env.id);
        return current.phase === RUNNING && current.leaseOwner === null && current;
      },
      20_000,
    );
    expect(JSON.parse(row.failureMessage)).toEqual([]);
    // The interrupted setup was ended and run again from the start, once.
    expect(readFileSync(attempts, "utf8").trim().split("\n")).toHaveLength(2);
    expect(readFileSync(join(markers, "finished"), "utf8")).toBe("finished\n");
    expect(pidAlive(firstSetupPid)).toBe(false);
    const log = await logText(testDb.db, env.id);
    expect(log.match(/\[system\] running \.ona\/setup\.sh/g)).toHaveLength(2);
    expect(log.match(/\[system\] cloning/g)).toHaveLength(1);
  });

  it("a half-finished clone left behind is discarded and the clone done again", async () => {
    testDb = await databases.fresh();
    const environmentsDir = join(tempDir(), "environments");
    const env = await createEnvironment(testDb.db, makeRepo({ "complete.txt": "yes\n" }));
    // What a runner killed mid-clone leaves: a temporary clone folder, no checkout.
    const stale = join(environmentsDir, ".ona-runner", env.id, "clone-deadbeef");
    mkdirSync(join(stale, ".git"), { recursive: true });
    writeFileSync(join(stale, "partial"), "");

    successor = testRunner(testDb.db, environmentsDir);
    await successor.reconcileOnce();
    expect((await getEnvironment(testDb.db, env.id)).phase).toBe(RUNNING);
    expect(readFileSync(join(environmentsDir, env.id, "complete.txt"), "utf8")).toBe("yes\n");
    expect(existsSync(stale)).toBe(false);
  });
});
