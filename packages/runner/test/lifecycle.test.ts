import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  EXEC_OUTPUT_CAP_BYTES,
  RunnerError,
  createRemoteRunnerClient,
  createRunnerHttpHandler,
  type LocalRunner,
} from "../src";
import {
  DELETED,
  RUNNING,
  STOPPED,
  createEnvironment,
  failures,
  getEnvironment,
  logText,
  makeRepo,
  hostProcessesWith,
  providersUnderTest,
  reposRoot,
  setDesiredPhase,
  tempDir,
  testRunner,
  uniqueSleep,
  useTestDatabases,
  waitFor,
  type TestDb,
} from "./helpers";

describe.each(providersUnderTest())("local runner lifecycle on %s", (provider) => {
  const databases = useTestDatabases(provider);
  let testDb: TestDb;
  let environmentsDir: string;
  let runner: LocalRunner;

  beforeEach(async () => {
    testDb = await databases.fresh();
    environmentsDir = join(tempDir(), "environments");
    runner = testRunner(testDb.db, environmentsDir);
    // Registers the runner and its classes; the loop is not started: tests drive it with reconcileOnce.
    await runner.start();
    await runner.stop();
  });
  afterEach(async () => {
    await runner.stop();
    await testDb.close();
  });

  it("seeds the local classes on first start", async () => {
    const classes = await testDb.db.environmentClass.findMany({ orderBy: { position: "asc" } });
    expect(classes.map((c) => [c.id, c.displayName, c.position, JSON.parse(c.configuration)])).toEqual([
      ["local-small", "Small", 0, [{ key: "cpu", value: "1" }, { key: "memory", value: "2Gi" }, { key: "processes", value: "512" }, { key: "disk", value: "20Gi" }]],
      ["local-large", "Large", 1, [{ key: "cpu", value: "2" }, { key: "memory", value: "8Gi" }, { key: "processes", value: "2048" }, { key: "disk", value: "50Gi" }]],
    ]);
    expect(classes[0]?.description).toBe("1 CPU, 2 GiB memory, 512 processes, 20 GiB disk");
    const runnerRow = await testDb.db.runner.findUniqueOrThrow({ where: { id: "local" } });
    expect(runnerRow.kind).toBe("local");
    expect(runnerRow.lastHeartbeatAt).not.toBeNull();
  });

  it("creates an environment: clone, .ona/setup.sh, RUNNING, with the setup's output in the log", async () => {
    const repo = makeRepo({
      "hello.txt": "hello from the repo\n",
      ".ona/setup.sh": 'echo "setting up in $PWD for $ONA_ENVIRONMENT_ID"\necho "to stderr" >&2\ntouch setup-ran\n',
    });
    const env = await createEnvironment(testDb.db, repo);
    await runner.reconcileOnce();

    const row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(RUNNING);
    expect(failures(row)).toEqual([]);
    // CREATING → STARTING → RUNNING: two phase changes, each counted.
    expect(row.statusVersion).toBe(2);
    expect(row.lastStartedAt).not.toBeNull();
    expect(row.leaseOwner).toBeNull();
    const checkout = join(environmentsDir, env.id);
    expect(readFileSync(join(checkout, "hello.txt"), "utf8")).toBe("hello from the repo\n");
    expect(existsSync(join(checkout, "setup-ran"))).toBe(true);
    const log = await logText(testDb.db, env.id);
    expect(log).toContain(`[system] cloning ${repo}`);
    expect(log).toContain("[system] running .ona/setup.sh");
    expect(log).toContain(`[stdout] setting up in /workspace for ${env.id}`);
    expect(log).toContain("[stderr] to stderr");
    expect(log).toContain("[system] setup exited with 0");
    expect(log).toContain("[system] environment is running");
  });

  it("runs a devcontainer.json postCreateCommand (JSON with comments; string and array forms)", async () => {
    const stringForm = makeRepo({
      ".devcontainer/devcontainer.json": `{
        // a comment, as VS Code writes them
        "name": "test",
        /* block */ "postCreateCommand": "echo from-devcontainer > made-by-setup && echo done-$((1+1))",
      }`,
    });
    const arrayForm = makeRepo({
      ".devcontainer/devcontainer.json": '{ "postCreateCommand": ["sh", "-c", "echo array-form; exit 0"] }',
    });
    const a = await createEnvironment(testDb.db, stringForm);
    const b = await createEnvironment(testDb.db, pathToFileURL(arrayForm).href);
    await runner.reconcileOnce();

    expect((await getEnvironment(testDb.db, a.id)).phase).toBe(RUNNING);
    expect(readFileSync(join(environmentsDir, a.id, "made-by-setup"), "utf8")).toBe("from-devcontainer\n");
    const logA = await logText(testDb.db, a.id);
    expect(logA).toContain("[system] running .devcontainer/devcontainer.json postCreateCommand");
    expect(logA).toContain("[stdout] done-2");
    expect((await getEnvironment(testDb.db, b.id)).phase).toBe(RUNNING);
    expect(await logText(testDb.db, b.id)).toContain("[stdout] array-form");
  });

  it("execs commands: output, exit code, truncation, timeout, missing command", async () => {
    const env = await createEnvironment(testDb.db, makeRepo({ "data.txt": "42\n" }));
    await runner.reconcileOnce();

    const cat = await runner.exec({ environmentId: env.id, command: ["cat", "data.txt"], timeoutSeconds: 10 });
    expect(cat).toEqual({ exitCode: 0, stdout: "42\n", stderr: "", truncated: false, timedOut: false });

    const vars = await runner.exec({
      environmentId: env.id,
      command: ["sh", "-c", 'echo "$ONA_ENVIRONMENT_ID $PWD"; echo oops >&2; exit 3'],
      timeoutSeconds: 10,
    });
    expect(vars.exitCode).toBe(3);
    expect(vars.stdout).toBe(`${env.id} /workspace\n`);
    expect(vars.stderr).toBe("oops\n");

    // No shell: metacharacters are plain arguments.
    const literal = await runner.exec({ environmentId: env.id, command: ["echo", "$HOME; rm -rf /"], timeoutSeconds: 10 });
    expect(literal.stdout).toBe("$HOME; rm -rf /\n");

    const big = await runner.exec({
      environmentId: env.id,
      command: ["head", "-c", String(EXEC_OUTPUT_CAP_BYTES + 1000), "/dev/zero"],
      timeoutSeconds: 10,
    });
    expect(big.truncated).toBe(true);
    expect(big.stdout.length).toBe(EXEC_OUTPUT_CAP_BYTES);
    expect(big.exitCode).toBe(0);

    const started = Date.now();
    const slow = await runner.exec({ environmentId: env.id, command: ["sh", "-c", "echo before; sleep 30"], timeoutSeconds: 1 });
    expect(slow).toMatchObject({ exitCode: 124, timedOut: true, stdout: "before\n" });
    expect(Date.now() - started).toBeLessThan(5_000);

    const missing = await runner.exec({ environmentId: env.id, command: ["no-such-command-xyz"], timeoutSeconds: 10 });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain("no-such-command-xyz: command not found");

    // The same runner served over HTTP, as `pnpm ona-runner` does for the web servers.
    const server = createServer(createRunnerHttpHandler(runner, { sharedSecret: "a-shared-secret-of-some-length" }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const remote = createRemoteRunnerClient({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        sharedSecret: "a-shared-secret-of-some-length",
      });
      expect(await remote.exec({ environmentId: env.id, command: ["cat", "data.txt"], timeoutSeconds: 10 })).toEqual(cat);
      await expect(remote.exec({ environmentId: "unknown", command: ["true"], timeoutSeconds: 10 })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("refuses exec for an environment that is not running, or unknown", async () => {
    const env = await createEnvironment(testDb.db, makeRepo({}));
    await expect(runner.exec({ environmentId: env.id, command: ["true"], timeoutSeconds: 5 })).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
    });
    await expect(runner.exec({ environmentId: "nope", command: ["true"], timeoutSeconds: 5 })).rejects.toBeInstanceOf(RunnerError);
  });

  it("stop ends the environment's processes, start brings it back without a new clone, delete removes it", async () => {
    const env = await createEnvironment(testDb.db, makeRepo({ ".ona/setup.sh": "echo setup-run >> .setup-count\n" }));
    await runner.reconcileOnce();
    const checkout = join(environmentsDir, env.id);

    // A background process that outlives the exec, as a dev server would.
    const sleep = uniqueSleep(300);
    await runner.exec({ environmentId: env.id, command: ["sh", "-c", `sleep ${sleep} > /dev/null 2>&1 &`], timeoutSeconds: 10 });
    expect(hostProcessesWith(sleep)).toHaveLength(1);
    writeFileSync(join(checkout, "work-in-progress.txt"), "unsaved work\n");

    // Stop on a running environment.
    await setDesiredPhase(testDb.db, env.id, STOPPED);
    await runner.reconcileOnce();
    let row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(STOPPED);
    expect(row.statusVersion).toBe(4); // RUNNING → STOPPING → STOPPED
    expect(hostProcessesWith(sleep)).toEqual([]);
    expect(await logText(testDb.db, env.id)).toMatch(/environment stopped \(\d+ process/);

    // Stop on a stopped environment: nothing happens.
    await setDesiredPhase(testDb.db, env.id, STOPPED);
    await runner.reconcileOnce();
    expect((await getEnvironment(testDb.db, env.id)).statusVersion).toBe(4);

    // Start: same folder, no second clone, no second setup.
    await setDesiredPhase(testDb.db, env.id, RUNNING);
    await runner.reconcileOnce();
    row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(RUNNING);
    expect(row.statusVersion).toBe(6); // STOPPED → STARTING → RUNNING
    expect(readFileSync(join(checkout, "work-in-progress.txt"), "utf8")).toBe("unsaved work\n");
    expect(readFileSync(join(checkout, ".setup-count"), "utf8")).toBe("setup-run\n");
    expect((await logText(testDb.db, env.id)).match(/\[system\] cloning/g)).toHaveLength(1);

    // Start on a running environment: nothing happens.
    await setDesiredPhase(testDb.db, env.id, RUNNING);
    await runner.reconcileOnce();
    expect((await getEnvironment(testDb.db, env.id)).statusVersion).toBe(6);

    // Delete (while running, with a process to end).
    const sleep2 = uniqueSleep(300);
    await runner.exec({ environmentId: env.id, command: ["sh", "-c", `sleep ${sleep2} > /dev/null 2>&1 &`], timeoutSeconds: 10 });
    expect(hostProcessesWith(sleep2)).toHaveLength(1);
    await setDesiredPhase(testDb.db, env.id, DELETED);
    await runner.reconcileOnce();
    row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(DELETED);
    expect(existsSync(checkout)).toBe(false);
    expect(existsSync(join(environmentsDir, ".ona-runner", env.id))).toBe(false);
    expect(hostProcessesWith(sleep2)).toEqual([]);
  });

  it("a bad context URL fails with git's reason and is not retried until the spec changes", async () => {
    const missing = join(reposRoot, `no-such-repo-${process.pid}-${Date.now()}`);
    const env = await createEnvironment(testDb.db, missing);
    await runner.reconcileOnce();

    let row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(STOPPED);
    expect(row.failedSpecVersion).toBe(1);
    const [message] = failures(row);
    expect(message).toContain(`cloning ${missing} failed`);
    expect(message).toMatch(/does not exist/);
    expect(await logText(testDb.db, env.id)).toContain("[stderr] fatal:");
    expect(existsSync(join(environmentsDir, ".ona-runner", env.id, "clone-done"))).toBe(false);

    // No retry at the same spec version.
    const logCount = await testDb.db.environmentLog.count({ where: { environmentId: env.id } });
    await runner.reconcileOnce();
    await runner.reconcileOnce();
    row = await getEnvironment(testDb.db, env.id);
    expect(await testDb.db.environmentLog.count({ where: { environmentId: env.id } })).toBe(logCount);
    expect(row.statusVersion).toBe(1);

    // The user's start bumps the spec: tried again (and, the repository now being there, it works).
    makeRepoAt(missing);
    await setDesiredPhase(testDb.db, env.id, RUNNING);
    await runner.reconcileOnce();
    row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(RUNNING);
    expect(failures(row)).toEqual([]);
  });

  it("a failing setup leaves the environment STOPPED with the exit code; stop afterwards clears the message", async () => {
    const env = await createEnvironment(testDb.db, makeRepo({ ".ona/setup.sh": "echo about to fail\nexit 7\n" }));
    await runner.reconcileOnce();
    let row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(STOPPED);
    expect(failures(row)[0]).toContain("setup (.ona/setup.sh) exited with code 7");
    expect(await logText(testDb.db, env.id)).toContain("[stdout] about to fail");

    await setDesiredPhase(testDb.db, env.id, STOPPED);
    await runner.reconcileOnce();
    row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(STOPPED);
    expect(failures(row)).toEqual([]);
  });

  it("stops a setup that runs past its time limit, ending what it started", async () => {
    const sleep = uniqueSleep(30);
    const env = await createEnvironment(testDb.db, makeRepo({ ".ona/setup.sh": `sleep ${sleep} &\necho waiting\nwait\n` }));
    const hasty = testRunner(testDb.db, environmentsDir, { setupTimeoutMs: 1_000 });
    await hasty.reconcileOnce();
    const row = await getEnvironment(testDb.db, env.id);
    expect(row.phase).toBe(STOPPED);
    expect(failures(row)[0]).toBe("setup (.ona/setup.sh) did not finish within 1 s and was stopped");
    expect(hostProcessesWith(sleep)).toEqual([]);
  });

  it("a delete asked for during setup interrupts it", async () => {
    const sleep = uniqueSleep(60);
    const env = await createEnvironment(testDb.db, makeRepo({ ".ona/setup.sh": `sleep ${sleep}\n` }));
    await runner.start();
    await waitFor("the setup to run", async () => hostProcessesWith(sleep).length === 1);
    await setDesiredPhase(testDb.db, env.id, DELETED);
    await waitFor("DELETED", async () => (await getEnvironment(testDb.db, env.id)).phase === DELETED, 10_000);
    expect(hostProcessesWith(sleep)).toEqual([]);
    expect(existsSync(join(environmentsDir, env.id))).toBe(false);
    expect(await logText(testDb.db, env.id)).toContain("start interrupted (superseded)");
  });

  it("checks out the branch a context URL names (#branch)", async () => {
    const repo = makeRepo({ "which.txt": "main\n" }, { "feature/x": { "which.txt": "feature\n" } });
    const env = await createEnvironment(testDb.db, `${pathToFileURL(repo).href}#feature/x`);
    const bad = await createEnvironment(testDb.db, `${repo}#no-such-branch`);
    await runner.reconcileOnce();
    expect((await getEnvironment(testDb.db, env.id)).phase).toBe(RUNNING);
    expect(readFileSync(join(environmentsDir, env.id, "which.txt"), "utf8")).toBe("feature\n");
    const failed = await getEnvironment(testDb.db, bad.id);
    expect(failed.phase).toBe(STOPPED);
    expect(failures(failed)[0]).toMatch(/no-such-branch/);
  });

  it("resumes with the background loop: an environment created while the runner runs reaches RUNNING", async () => {
    await runner.start();
    const env = await createEnvironment(testDb.db, makeRepo({}));
    await waitFor("RUNNING", async () => (await getEnvironment(testDb.db, env.id)).phase === RUNNING);
    await setDesiredPhase(testDb.db, env.id, DELETED);
    await waitFor("DELETED", async () => (await getEnvironment(testDb.db, env.id)).phase === DELETED);
  });
});

function makeRepoAt(path: string): void {
  const source = makeRepo({ "late.txt": "here now\n" });
  // A clone is the quickest way to get a repository at a chosen path.
  execGit(["clone", "-q", source, path]);
}

function execGit(args: string[]): void {
  execFileSync("git", args, { stdio: "ignore" });
}
