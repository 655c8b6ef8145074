import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  createClient,
  EnvironmentFailedError,
  NotFoundError,
  OnaError,
  PermissionError,
  PreconditionError,
  UnavailableError,
  ValidationError,
  waitForEnvironment,
  WaitTimeoutError,
  type OnaClient,
} from "@ona/sdk";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { makeGitRepository } from "../support/cli";
import { createToken, signUp } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { closedPort, wellFormedToken } from "../cli/helpers";

let databases: TestDatabases;
let server: TestServer;
let repository: { path: string; remove(): void };
let slowRepository: { path: string; remove(): void };
let ona: OnaClient;
let readOnly: OnaClient;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases });
  repository = makeGitRepository();
  slowRepository = makeGitRepository({ setup: "#!/bin/sh\nsleep 3\n" });
  const user = await signUp(server.url);
  ona = createClient({ host: server.url, token: (await createToken(server.url, user)).secret, userAgent: "sdk-test/1" });
  readOnly = createClient({ host: server.url, token: (await createToken(server.url, user, { accessLevel: "read-only" })).secret });
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
  repository?.remove();
  slowRepository?.remove();
});

async function failure(promise: Promise<unknown>): Promise<OnaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OnaError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("@ona/sdk against a real server", () => {
  it("creates an environment and waits for it, reporting each phase", async () => {
    const environment = await ona.environments.create({ contextUrl: repository.path, classId: "local-large", name: "sdk" });
    expect(environment.status.phase).toBe("ENVIRONMENT_PHASE_CREATING");
    const phases: string[] = [];
    const running = await waitForEnvironment(ona, environment.id, "ENVIRONMENT_PHASE_RUNNING", {
      since: environment,
      timeoutMs: 60_000,
      onProgress: (e) => phases.push(e.status.phase),
    });
    expect(running.status.phase).toBe("ENVIRONMENT_PHASE_RUNNING");
    expect(phases.at(-1)).toBe("ENVIRONMENT_PHASE_RUNNING");

    const exec = await ona.environments.exec({ id: environment.id, command: ["cat", "README.md"] });
    expect(exec).toEqual({ exitCode: 0, stdout: "# a test repository\n", stderr: "", truncated: false, timedOut: false });
    const { lines } = await readOnly.environments.logs({ id: environment.id });
    expect(lines.map((line) => line.text)).toContain("setup ran");

    const stopped = await ona.environments.stop(environment.id);
    expect((await ona.environments.waitFor(stopped.id, "ENVIRONMENT_PHASE_STOPPED", { since: stopped, timeoutMs: 30_000 })).status.phase).toBe("ENVIRONMENT_PHASE_STOPPED");
    expect(await failure(ona.environments.exec({ id: environment.id, command: ["true"] }))).toBeInstanceOf(PreconditionError);
  });

  it("rejects with the environment's failure message when it fails", async () => {
    const environment = await ona.environments.create({ contextUrl: `${repository.path}-missing` });
    const error = await waitForEnvironment(ona, environment.id, "ENVIRONMENT_PHASE_RUNNING", { since: environment, timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentFailedError);
    const failed = error as EnvironmentFailedError;
    expect(failed.environment.status.phase).toBe("ENVIRONMENT_PHASE_STOPPED");
    expect(failed.message).toMatch(/does not exist/);
  });

  it("rejects with a WaitTimeoutError when the phase is not reached in time", async () => {
    const environment = await ona.environments.create({ contextUrl: slowRepository.path });
    const error = await waitForEnvironment(ona, environment.id, "ENVIRONMENT_PHASE_RUNNING", { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).environment?.id).toBe(environment.id);
  });

  it("throws one error class per failure, with the server's message", async () => {
    const unauthenticated = await failure(createClient({ host: server.url, token: wellFormedToken() }).identity.whoami());
    expect(unauthenticated).toBeInstanceOf(AuthenticationError);
    expect(unauthenticated).toMatchObject({ code: "UNAUTHENTICATED", httpStatus: 401, message: "the access token is not valid: check that it was copied whole, or create a new one" });

    const readOnlyWrite = await failure(readOnly.environments.create({ contextUrl: repository.path }));
    expect(readOnlyWrite).toBeInstanceOf(PermissionError);
    expect(readOnlyWrite.message).toBe("the token is read-only: create a read & write token to make changes");

    const missing = await failure(ona.environments.get("nope"));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ httpStatus: 404, message: "environment nope was not found" });

    const invalid = await failure(ona.environments.create({ contextUrl: repository.path, classId: "gpu" }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.issues).toEqual([{ path: "classId", message: "valid classes are local-small, local-large" }]);

    const host = `http://127.0.0.1:${await closedPort()}`;
    const down = await failure(createClient({ host, token: wellFormedToken() }).environments.list());
    expect(down).toBeInstanceOf(UnavailableError);
    expect(down.message).toBe(`could not reach the Ona server at ${host}: is it running?`);
  });

  it("pages through every item with listAll", async () => {
    const before = (await ona.environments.list({ pageSize: 100 })).items.length;
    for (let i = 0; i < 3; i++) await ona.environments.create({ contextUrl: repository.path, name: `page-${i}` });
    const ids: string[] = [];
    for await (const environment of ona.environments.listAll({ pageSize: 2 })) ids.push(environment.id);
    expect(ids.length).toBe(before + 3);
    expect(new Set(ids).size).toBe(ids.length);

    const entries = [];
    for await (const entry of ona.auditLogs.listAll({ action: "environment.create", outcome: "success", pageSize: 2 })) entries.push(entry);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(entries.every((entry) => entry.userAgent === "sdk-test/1")).toBe(true);
    const denied = [];
    for await (const entry of readOnly.auditLogs.listAll({ outcome: "denied" })) denied.push(entry);
    expect(denied.map((entry) => entry.userAgent)).toContain(`ona-sdk node/${process.versions.node}`);
    expect((await ona.environmentClasses.list()).items.map((c) => c.id)).toEqual(["local-small", "local-large"]);
    expect((await ona.tokens.list()).items.length).toBe(2);
  });
});
