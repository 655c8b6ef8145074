import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Environment, EnvironmentPhase, ExecOutput, LogsOutput } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp, type SignedUpUser } from "../support/client";
import { makeRepository } from "../support/git";
import { TEST_REPOSITORIES } from "../support/repositories";
import { startTestServer, type TestServer } from "../support/server";

let databases: TestDatabases;
let server: TestServer;
let owner: SignedUpUser;
let stranger: SignedUpUser;
let readWrite: string;
let readOnly: string;
let repository: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases });
  await signUp(server.url); // the admin
  owner = await signUp(server.url);
  stranger = await signUp(server.url);
  readWrite = (await createToken(server.url, owner, { accessLevel: "read-write" })).secret;
  readOnly = (await createToken(server.url, owner, { accessLevel: "read-only" })).secret;
  repository = makeRepository({
    "README.md": "# demo\n",
    ".ona/setup.sh": "#!/bin/sh\necho setting up the demo\necho ready > .setup-done\n",
  });
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

async function get(id: string, token = readWrite): Promise<Environment> {
  const result = await query(server.url, "environment.get", { id }, { token });
  expect(result.status, result.text).toBe(200);
  return (result.data as { environment: Environment }).environment;
}

async function waitFor(id: string, phase: EnvironmentPhase, timeoutMs = 30_000): Promise<Environment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const environment = await get(id);
    if (environment.status.phase === phase) return environment;
    if (Date.now() > deadline) throw new Error(`environment ${id} stayed ${environment.status.phase}: ${environment.status.failureMessage.join("; ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function create(contextUrl: string, extra: Record<string, unknown> = {}): Promise<Environment> {
  const result = await mutate(server.url, "environment.create", { contextUrl, ...extra }, { token: readWrite });
  expect(result.status, result.text).toBe(200);
  return (result.data as { environment: Environment }).environment;
}

describe(`environments through the API (${testDatabaseProvider()})`, () => {
  it("lists the local runner's classes", async () => {
    const result = await query(server.url, "environmentClass.list", undefined, { token: readOnly });
    const ids = (result.data as { items: { id: string; enabled: boolean }[] }).items.map((c) => c.id);
    expect(ids).toEqual(["local-small", "local-large"]);
  });

  it("runs the whole lifecycle with a read & write token", async () => {
    const created = await create(repository, { name: "demo" });
    expect(created.spec.desiredPhase).toBe("ENVIRONMENT_PHASE_RUNNING");
    expect(created.spec.machine.class).toBe("local-small");
    expect(created.metadata.name).toBe("demo");

    const running = await waitFor(created.id, "ENVIRONMENT_PHASE_RUNNING");
    expect(running.status.failureMessage).toEqual([]);
    const folder = join(server.dataDir, "environments", created.id);
    expect(readFileSync(join(folder, "README.md"), "utf8")).toBe("# demo\n");
    expect(existsSync(join(folder, ".setup-done"))).toBe(true);

    const logs = await query(server.url, "environment.logs", { id: created.id }, { token: readOnly });
    expect((logs.data as LogsOutput).lines.map((l) => l.text)).toContain("setting up the demo");

    const exec = await mutate(server.url, "environment.exec", { id: created.id, command: ["sh", "-c", "cat README.md; echo oops >&2; exit 3"] }, { token: readWrite });
    expect(exec.data as ExecOutput).toEqual({ exitCode: 3, stdout: "# demo\n", stderr: "oops\n", truncated: false, timedOut: false });

    await mutate(server.url, "environment.stop", { id: created.id }, { token: readWrite });
    await waitFor(created.id, "ENVIRONMENT_PHASE_STOPPED");
    const refusedExec = await mutate(server.url, "environment.exec", { id: created.id, command: ["true"] }, { token: readWrite });
    expect(refusedExec.status).toBe(412);
    expect(refusedExec.error?.message).toMatch(/not running/);

    const stopAgain = await mutate(server.url, "environment.stop", { id: created.id }, { token: readWrite });
    expect((stopAgain.data as { environment: Environment }).environment.status.phase).toBe("ENVIRONMENT_PHASE_STOPPED");

    await mutate(server.url, "environment.start", { id: created.id }, { token: readWrite });
    const restarted = await waitFor(created.id, "ENVIRONMENT_PHASE_RUNNING");
    const startAgain = await mutate(server.url, "environment.start", { id: created.id }, { token: readWrite });
    expect((startAgain.data as { environment: Environment }).environment.status.statusVersion).toBe(restarted.status.statusVersion);

    await mutate(server.url, "environment.delete", { id: created.id }, { token: readWrite });
    await waitFor(created.id, "ENVIRONMENT_PHASE_DELETED");
    expect(existsSync(folder)).toBe(false);
    const listed = await query(server.url, "environment.list", {}, { token: readOnly });
    expect((listed.data as { items: Environment[] }).items.map((e) => e.id)).not.toContain(created.id);
  });

  it("reports git's reason when the repository cannot be cloned", async () => {
    const created = await create(join(TEST_REPOSITORIES, "no-such-repository"));
    const deadline = Date.now() + 30_000;
    let environment = await get(created.id);
    while (environment.status.failureMessage.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      environment = await get(created.id);
    }
    expect(environment.status.failureMessage.join("\n")).toMatch(/does not exist|not a git repository|not found/i);
    expect(environment.status.phase).not.toBe("ENVIRONMENT_PHASE_RUNNING");
  });

  it("refuses folders of the server's own disk outside ONA_LOCAL_REPOSITORIES, and transports that run programs", async () => {
    for (const contextUrl of [
      "/etc",
      "file:///etc",
      join(server.dataDir, "environments"),
      `${TEST_REPOSITORIES}/../${server.dataDir.split("/").pop() ?? ""}`,
      "ext::sh -c touch% /tmp/pwned",
      "fd::17",
      "ftp://example.com/repo.git",
      "relative/path",
    ]) {
      const result = await mutate(server.url, "environment.create", { contextUrl }, { token: readWrite });
      expect(result.status, contextUrl).toBe(400);
      expect(result.body, contextUrl).toMatchObject({ error: { data: { onaCode: "VALIDATION", issues: [{ path: "contextUrl" }] } } });
    }
    const refused = await mutate(server.url, "environment.create", { contextUrl: "/etc" }, { token: readWrite });
    expect(refused.error?.message).toBe(`"/etc" cannot be cloned: folders of the server's disk can be cloned only from under ${TEST_REPOSITORIES}`);
  });

  it("lets a read-only token list, get and read logs, and refuses every change", async () => {
    const created = await create(repository);
    await waitFor(created.id, "ENVIRONMENT_PHASE_RUNNING");
    expect((await query(server.url, "environment.list", {}, { token: readOnly })).status).toBe(200);
    expect((await query(server.url, "environment.get", { id: created.id }, { token: readOnly })).status).toBe(200);
    expect((await query(server.url, "environment.logs", { id: created.id }, { token: readOnly })).status).toBe(200);
    for (const [path, input] of [
      ["environment.create", { contextUrl: repository }],
      ["environment.start", { id: created.id }],
      ["environment.stop", { id: created.id }],
      ["environment.delete", { id: created.id }],
      ["environment.exec", { id: created.id, command: ["true"] }],
    ] as const) {
      const result = await mutate(server.url, path, input, { token: readOnly });
      expect(result.status, path).toBe(403);
      expect(result.headers.get("www-authenticate"), path).toContain("insufficient_scope");
    }
  });

  it("hides other users' environments behind not found", async () => {
    const created = await create(repository);
    const strangerToken = (await createToken(server.url, stranger)).secret;
    expect((await query(server.url, "environment.get", { id: created.id }, { token: strangerToken })).status).toBe(404);
    expect((await mutate(server.url, "environment.stop", { id: created.id }, { token: strangerToken })).status).toBe(404);
    const theirs = await query(server.url, "environment.list", {}, { token: strangerToken });
    expect((theirs.data as { items: Environment[] }).items).toEqual([]);
  });

  it("explains an unknown class with the valid ones", async () => {
    const result = await mutate(server.url, "environment.create", { contextUrl: repository, classId: "gpu-huge" }, { token: readWrite });
    expect(result.status).toBe(400);
    expect(result.error?.message).toContain("valid classes are local-small, local-large");
  });

  it("filters the list by phase and audits every change with the token id", async () => {
    const created = await create(repository);
    await waitFor(created.id, "ENVIRONMENT_PHASE_RUNNING");
    const running = await query(server.url, "environment.list", { phases: ["ENVIRONMENT_PHASE_RUNNING"] }, { token: readOnly });
    const items = (running.data as { items: Environment[] }).items;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((e) => e.status.phase === "ENVIRONMENT_PHASE_RUNNING")).toBe(true);
    const audit = await query(server.url, "auditLog.list", { subjectId: created.id }, { token: readOnly });
    const entries = (audit.data as { items: { action: string; tokenId: string | null; outcome: string }[] }).items;
    const whoami = await query(server.url, "identity.whoami", undefined, { token: readWrite });
    const readWriteId = (whoami.data as { token: { id: string } }).token.id;
    expect(entries[0]).toMatchObject({ action: "environment.create", outcome: "success", tokenId: readWriteId });
  });
});
