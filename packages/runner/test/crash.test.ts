import { execFileSync, spawn, type ChildProcess } from "node:child_process";
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
  hostProcessesWith,
  providersUnderTest,
  reposRoot,
  tempDir,
  testRunner,
  uniqueSleep,
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
      TEST_LOCAL_REPOSITORIES: reposRoot,
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
    const environmentsDir = join(tempDir(), "environments");
    // The first attempt hangs in setup (where the runner is killed); the second finishes. The
    // setup keeps its notes in the checkout, the only place it can write.
    const sleep = uniqueSleep(60);
    const repo = makeRepo({
      ".ona/setup.sh": [
        "echo attempt >> .attempts",
        `if [ "$(wc -l < .attempts)" -eq 1 ]; then echo "first attempt, hanging"; sleep ${sleep}; fi`,
        "echo finished >> .finished",
        "",
      ].join("\n"),
    });
    const env = await createEnvironment(testDb.db, repo);
    const checkout = join(environmentsDir, env.id);

    child = startRunnerProcess(testDb.url, environmentsDir, "doomed-runner");
    await waitFor("the setup to start in the child runner", async () => hostProcessesWith(sleep).length === 1, 60_000);
    child.kill("SIGKILL");
    await new Promise((resolve) => child?.once("exit", resolve));
    child = undefined;

    const orphaned = await getEnvironment(testDb.db, env.id);
    expect(orphaned.phase).toBe(STARTING);
    expect(orphaned.leaseOwner).toBe("doomed-runner");
    // Its setup outlived it (the sandbox does not depend on the runner).
    expect(hostProcessesWith(sleep)).toHaveLength(1);

    successor = testRunner(testDb.db, environmentsDir, { leaseMs: LEASE_MS, processId: "successor" });
    await successor.start();
    const row = await waitFor(
      "RUNNING, with the lease given back",
      async () => {
        const current = await getEnvironment(testDb.db, env.id);
        return current.phase === RUNNING && current.leaseOwner === null && current;
      },
      60_000,
    );
    expect(JSON.parse(row.failureMessage)).toEqual([]);
    // The interrupted setup was ended and run again from the start, once.
    expect(readFileSync(join(checkout, ".attempts"), "utf8").trim().split("\n")).toHaveLength(2);
    expect(readFileSync(join(checkout, ".finished"), "utf8")).toBe("finished\n");
    expect(hostProcessesWith(sleep)).toEqual([]);
    const log = await logText(testDb.db, env.id);
    expect(log.match(/\[system\] running \.ona\/setup\.sh/g)).toHaveLength(2);
    expect(log.match(/\[system\] cloning/g)).toHaveLength(1);
  }, 180_000);

  it("a half-finished clone left behind is discarded and the clone done again", async () => {
    testDb = await databases.fresh();
    const environmentsDir = join(tempDir(), "environments");
    const env = await createEnvironment(testDb.db, makeRepo({ "complete.txt": "yes\n" }));
    // What a runner killed mid-clone leaves: a clone begun, not finished, part of it in the checkout.
    const state = join(environmentsDir, ".ona-runner", env.id);
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, "clone-started"), "");
    mkdirSync(join(environmentsDir, env.id, ".git"), { recursive: true });
    writeFileSync(join(environmentsDir, env.id, "partial"), "");

    successor = testRunner(testDb.db, environmentsDir);
    await successor.reconcileOnce();
    expect((await getEnvironment(testDb.db, env.id)).phase).toBe(RUNNING);
    expect(readFileSync(join(environmentsDir, env.id, "complete.txt"), "utf8")).toBe("yes\n");
    expect(existsSync(join(environmentsDir, env.id, "partial"))).toBe(false);
  });

  it("a checkout made before clones were noted is kept as it is, untracked work included", async () => {
    testDb = await databases.fresh();
    const environmentsDir = join(tempDir(), "environments");
    const env = await createEnvironment(testDb.db, makeRepo({ "complete.txt": "yes\n" }));
    // What an earlier version left: a checkout renamed into place once whole, and no notes.
    execFileSync("git", ["clone", "-q", "--", env.contextUrl, join(environmentsDir, env.id)]);
    writeFileSync(join(environmentsDir, env.id, "unsaved.txt"), "work\n");

    successor = testRunner(testDb.db, environmentsDir);
    await successor.reconcileOnce();
    expect((await getEnvironment(testDb.db, env.id)).phase).toBe(RUNNING);
    expect(readFileSync(join(environmentsDir, env.id, "unsaved.txt"), "utf8")).toBe("work\n");
    expect((await logText(testDb.db, env.id)).match(/\[system\] cloning/g)).toBeNull();
  });
});
