import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Environment, EnvironmentClass, ExecOutput, LogLine } from "@ona/contracts";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { makeCliHome, makeGitRepository, type CliHome } from "../support/cli";
import { createToken, signUp } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

let databases: TestDatabases;
let server: TestServer;
let repository: { path: string; remove(): void };
let slowRepository: { path: string; remove(): void };
let readWrite: string;
let readOnly: string;
let cli: CliHome;
const created: string[] = [];

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases });
  repository = makeGitRepository();
  // Its setup outlasts every wait in these tests, however slow the machine: it never gets to running here.
  slowRepository = makeGitRepository({ setup: "#!/bin/sh\necho slow setup\nsleep 120\n" });
  const user = await signUp(server.url);
  readWrite = (await createToken(server.url, user, { accessLevel: "read-write" })).secret;
  readOnly = (await createToken(server.url, user, { accessLevel: "read-only" })).secret;
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
  repository?.remove();
  slowRepository?.remove();
});

beforeEach(() => {
  cli = makeCliHome();
});
afterEach(() => cli.remove());

const asUser = (token = readWrite) => ({ env: { ONA_TOKEN: token, ONA_HOST: server.url } });

async function createRunning(name?: string): Promise<Environment> {
  const result = await cli.ona(["environment", "create", repository.path, "-o", "json", ...(name ? ["--name", name] : [])], asUser());
  expect(result.stderr).not.toContain("error");
  expect(result.code).toBe(0);
  const environment = Environment.parse(JSON.parse(result.stdout));
  created.push(environment.id);
  return environment;
}

describe("ona environment list-classes", () => {
  it("lists the runner's classes as a table, JSON and YAML", async () => {
    const table = await cli.ona(["environment", "list-classes"], asUser(readOnly));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID +NAME +DESCRIPTION +CONFIGURATION +RUNNER +ENABLED$/m);
    expect(table.stdout).toMatch(/^local-small +.* +local +yes$/m);
    expect(table.stdout).toMatch(/^local-large /m);
    const json: unknown = JSON.parse((await cli.ona(["env", "list-classes", "-o", "json"], asUser(readOnly))).stdout);
    const classes = EnvironmentClass.strict().array().parse(json);
    expect(classes.map((c) => c.id)).toEqual(["local-small", "local-large"]);
    const yaml = await cli.ona(["env", "list-classes", "-o", "yaml"], asUser(readOnly));
    expect(yaml.stdout).toMatch(/^- id: local-small\n {2}runnerId: local\n/);
  });
});

describe("ona environment create", () => {
  it("--dont-wait prints only the new id; get -o json prints the Environment itself", async () => {
    const result = await cli.ona(["environment", "create", repository.path, "--dont-wait", "--class-id", "local-small"], asUser());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[A-Za-z0-9_-]+\n$/);
    expect(result.stderr).toBe("");
    const id = result.stdout.trim();
    created.push(id);

    const get = await cli.ona(["environment", "get", id, "-o", "json"], asUser(readOnly));
    expect(get.code).toBe(0);
    const parsed: unknown = JSON.parse(get.stdout);
    expect(Environment.strict().parse(parsed)).toEqual(parsed);
    expect(parsed).toMatchObject({ id, spec: { machine: { class: "local-small" }, content: { initializer: { specs: [{ contextUrl: { url: repository.path } }] } } } });
  });

  it("waits until the environment runs, with progress on stderr, then prints it", async () => {
    const result = await cli.ona(["environment", "create", repository.path, "--name", "waited"], asUser());
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^created environment (\S+) \(waited, class local-small\); waiting for it to run…\n {2}creating\n/);
    expect(result.stderr).toMatch(/ {2}running\nenvironment \S+ is running \(\d/);
    expect(result.stdout).toMatch(/^ID: +\S+$/m);
    expect(result.stdout).toMatch(/^Name: +waited$/m);
    expect(result.stdout).toMatch(/^Phase: +running$/m);
    expect(result.stdout).toMatch(new RegExp(`^Context URL: +${repository.path}$`, "m"));
    created.push(/^ID: +(\S+)$/m.exec(result.stdout)?.[1] ?? "");
  });

  it("-o json prints the running Environment", async () => {
    const environment = await createRunning();
    expect(environment.status.phase).toBe("ENVIRONMENT_PHASE_RUNNING");
    // Running means cloned: the repository's README is in the environment's own folder.
    expect(readFileSync(join(server.dataDir, "environments", environment.id, "README.md"), "utf8")).toBe("# a test repository\n");
  });

  it("an unknown class: exit 2 and the valid classes", async () => {
    const result = await cli.ona(["environment", "create", repository.path, "--class-id", "gpu-huge"], asUser());
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: unknown environment class "gpu-huge": valid classes are local-small, local-large\n');
  });

  it("a context URL git cannot clone: exit 1 with git's reason and where to look", async () => {
    const result = await cli.ona(["environment", "create", `${repository.path}-missing`], asUser());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: environment (\S+) failed: .*(does not exist|not a git repository|not found|No such file)/i);
    expect(result.stderr).toMatch(/→ ona environment logs \S+ shows what happened\n$/);
    expect(result.stdout).toBe("");
  });

  it("--timeout bounds the wait: exit 6, and the environment carries on", async () => {
    const result = await cli.ona(["environment", "create", slowRepository.path, "--timeout", "500ms"], asUser());
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/error: timed out after 500ms waiting for environment (\S+) to be running \(it is (creating|starting)\)/);
    expect(result.stderr).toMatch(/→ it carries on on the server: ona environment get \S+ shows where it is; wait longer with --timeout/);
    expect(result.stdout).toBe("");
  });

  it("a read-only token cannot create: exit 4 and what to do", async () => {
    const result = await cli.ona(["environment", "create", repository.path], asUser(readOnly));
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      `error: the token is read-only: create a read & write token to make changes\n  → create a read & write token at ${server.url}/settings/personal-access-tokens, then run ona login --token <token>\n`,
    );
  });
});

describe("ona environment list / get", () => {
  it("lists as a table, a JSON array and YAML, filtered by --phase", async () => {
    const environment = await createRunning("listed");
    const table = await cli.ona(["environment", "list"], asUser(readOnly));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID +NAME +PHASE +CLASS +CONTEXT +CREATED$/m);
    expect(table.stdout).toMatch(new RegExp(`^${environment.id} +listed +running +local-small +${repository.path} +\\d{4}-`, "m"));

    const json = await cli.ona(["env", "list", "-o", "json"], asUser(readOnly));
    const items: unknown = JSON.parse(json.stdout);
    expect(Array.isArray(items)).toBe(true);
    const environments = Environment.strict().array().parse(items);
    expect(environments.map((e) => e.id)).toContain(environment.id);

    const running = Environment.array().parse(JSON.parse((await cli.ona(["env", "list", "--phase", "running", "-o", "json"], asUser())).stdout));
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((e) => e.status.phase === "ENVIRONMENT_PHASE_RUNNING")).toBe(true);
    const stopped = Environment.array().parse(JSON.parse((await cli.ona(["env", "list", "--phase", "STOPPED", "--phase", "deleted", "-o", "json"], asUser())).stdout));
    expect(stopped.map((e) => e.id)).not.toContain(environment.id);

    const yaml = await cli.ona(["env", "list", "-o", "yaml"], asUser());
    expect(yaml.stdout).toMatch(/^- id: /);
    expect(yaml.stdout).toContain(`- id: ${environment.id}\n  metadata:\n    name: listed\n`);
  });

  it("get: the fields as a table, YAML; an unknown id exits 5 with where to look", async () => {
    const environment = await createRunning("got");
    const table = await cli.ona(["environment", "get", environment.id], asUser(readOnly));
    expect(table.stdout).toMatch(/^Phase: +running$/m);
    expect(table.stdout).toMatch(/^Class: +local-small$/m);
    const yaml = await cli.ona(["environment", "get", environment.id, "-o", "yaml"], asUser(readOnly));
    expect(yaml.stdout).toMatch(new RegExp(`^id: ${environment.id}\nmetadata:\n  name: got\n`));
    expect(yaml.stdout).toContain("  phase: ENVIRONMENT_PHASE_RUNNING\n");

    const missing = await cli.ona(["environment", "get", "no-such-environment"], asUser());
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe("error: environment no-such-environment was not found\n  → ona environment list shows the ids you can use\n");
  });
});

describe("ona environment stop / start / delete", () => {
  it("stop waits for STOPPED, start for RUNNING; a read-only token is refused; delete deletes", async () => {
    const environment = await createRunning();

    const refused = await cli.ona(["environment", "stop", environment.id], asUser(readOnly));
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("the token is read-only: create a read & write token");

    const stop = await cli.ona(["environment", "stop", environment.id, "-o", "json"], asUser());
    expect(stop.code).toBe(0);
    expect(stop.stderr).toMatch(/stopping environment \S+…\n[\s\S]*environment \S+ is stopped/);
    expect(Environment.parse(JSON.parse(stop.stdout)).status.phase).toBe("ENVIRONMENT_PHASE_STOPPED");

    const again = await cli.ona(["environment", "stop", environment.id], asUser());
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`environment ${environment.id} is already stopped\n`);

    const exec = await cli.ona(["environment", "exec", environment.id, "--", "true"], asUser());
    expect(exec.code).toBe(1);
    expect(exec.stderr).toMatch(/is not running \(phase stopped\): start it first/);

    const start = await cli.ona(["env", "start", environment.id], asUser());
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^Phase: +running$/m);

    const deleted = await cli.ona(["environment", "delete", environment.id, "-o", "json"], asUser());
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).toContain(`environment ${environment.id} is being deleted`);
    expect(Environment.parse(JSON.parse(deleted.stdout)).spec.desiredPhase).toBe("ENVIRONMENT_PHASE_DELETED");

    const unknown = await cli.ona(["environment", "stop", "nope"], asUser());
    expect(unknown.code).toBe(5);
  });

  it("start --timeout: exit 6 when the environment does not run in time", async () => {
    const result = await cli.ona(["environment", "create", slowRepository.path, "--dont-wait"], asUser());
    const id = result.stdout.trim();
    // Its setup takes minutes: asking to start it (it is already meant to run) waits for that.
    const start = await cli.ona(["environment", "start", id, "--timeout", "1s"], asUser());
    expect(start.code).toBe(6);
    expect(start.stderr).toMatch(new RegExp(`timed out after 1s waiting for environment ${id} to be running \\(it is (creating|starting)\\)`));
  });
});

describe("ona environment exec / logs", () => {
  it("exec passes on the remote command's output and exit code", async () => {
    const environment = await createRunning();
    const result = await cli.ona(["environment", "exec", environment.id, "--", "sh", "-c", "cat README.md; echo oops >&2; exit 3"], asUser());
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("# a test repository\n");
    expect(result.stderr).toBe("oops\n");

    const ok = await cli.ona(["env", "exec", environment.id, "--", "ls", "-a"], asUser());
    expect(ok.code).toBe(0);
    expect(ok.stdout.split("\n")).toEqual(expect.arrayContaining(["README.md", ".ona"]));

    const json = await cli.ona(["env", "exec", environment.id, "-o", "json", "--", "sh", "-c", "echo hi; exit 2"], asUser());
    expect(json.code).toBe(2);
    expect(ExecOutput.strict().parse(JSON.parse(json.stdout))).toMatchObject({ exitCode: 2, stdout: "hi\n", stderr: "", truncated: false, timedOut: false });

    const readOnlyExec = await cli.ona(["env", "exec", environment.id, "--", "true"], asUser(readOnly));
    expect(readOnlyExec.code).toBe(4);
    expect(readOnlyExec.stderr).toContain("the token is read-only");
  });

  it("logs shows the clone and setup output, as lines or as a JSON array", async () => {
    const environment = await createRunning();
    const text = await cli.ona(["environment", "logs", environment.id], asUser(readOnly));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}stdout {2}setup ran$/m);
    const json = await cli.ona(["environment", "logs", environment.id, "-o", "json"], asUser(readOnly));
    const lines = LogLine.strict().array().parse(JSON.parse(json.stdout));
    expect(lines.some((line) => line.text === "setup ran" && line.stream === "stdout")).toBe(true);
    const missing = await cli.ona(["environment", "logs", "nope"], asUser(readOnly));
    expect(missing.code).toBe(5);
  });
});
