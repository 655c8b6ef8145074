import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Environment, ExecOutput } from "@ona/contracts";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp } from "../support/client";
import { makeRepository } from "../support/git";
import { REPO_ROOT, startProductionServer, type ProductionServer } from "../support/production-server";

// No silent fallback: a runner that cannot make a sandbox runs no environment and says what
// to install; single-user mode is chosen explicitly and shown as such everywhere.

let databases: TestDatabases;

beforeAll(async () => {
  databases = await startTestDatabases();
});
afterAll(async () => {
  await databases?.stop();
});

/** `pnpm ona-admin runner list` against a server's database. */
function runnerList(server: ProductionServer, databaseUrl: string): string {
  const result = spawnSync("pnpm", ["--silent", "ona-admin", "runner", "list"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, ONA_DATA_DIR: server.dataDir, DATABASE_URL: databaseUrl },
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

async function tokenFor(server: ProductionServer): Promise<string> {
  await signUp(server.url);
  return (await createToken(server.url, await signUp(server.url), { accessLevel: "read-write" })).secret;
}

async function settled(server: ProductionServer, token: string, id: string): Promise<Environment> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const environment = ((await query(server.url, "environment.get", { id }, { token })).data as { environment: Environment }).environment;
    if (environment.status.phase === "ENVIRONMENT_PHASE_RUNNING" || environment.status.failureMessage.length > 0) return environment;
    if (Date.now() > deadline) throw new Error(`environment ${id} did not settle: ${environment.status.phase}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a machine without bubblewrap", () => {
  let server: ProductionServer;
  let databaseUrl: string;
  let bin: string;

  beforeAll(async () => {
    // Every program of the system's PATH but bubblewrap.
    bin = mkdtempSync(join(tmpdir(), "ona-no-bwrap-"));
    for (const dir of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin", dirname(process.execPath)]) {
      for (const name of readdirSync(dir)) {
        if (name === "bwrap") continue;
        try {
          symlinkSync(join(dir, name), join(bin, name));
        } catch {
          // the same name from an earlier folder wins, as on a PATH
        }
      }
    }
    const database = await databases.fresh();
    databaseUrl = database.url;
    server = await startProductionServer({ database, env: { PATH: bin } });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(bin, { recursive: true, force: true });
  });

  it("runs no environment, and says what to install in the environment, the log, health and ona-admin", async () => {
    const token = await tokenFor(server);
    const created = await mutate(server.url, "environment.create", { contextUrl: makeRepository() }, { token });
    expect(created.status, created.text).toBe(200);
    const environment = await settled(server, token, (created.data as { environment: Environment }).environment.id);
    expect(environment.status.phase).toBe("ENVIRONMENT_PHASE_STOPPED");
    const [message] = environment.status.failureMessage;
    expect(message).toContain("cannot sandbox environments: bwrap is not installed");
    expect(message).toContain("apt-get install -y bubblewrap");
    expect(message).toContain("ONA_RUNTIME=host");

    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { runners: { id: string; isolation: string; problem?: string }[] };
    expect(health.runners).toEqual([{ id: "local", isolation: "sandbox", problem: message }]);
    expect(server.output()).toContain("environments cannot run on this runner");
    expect(runnerList(server, databaseUrl)).toContain(`cannot run environments: ${message ?? ""}`);
  });
});

describe("single-user mode (ONA_RUNTIME=host)", () => {
  let server: ProductionServer;
  let databaseUrl: string;

  beforeAll(async () => {
    const database = await databases.fresh();
    databaseUrl = database.url;
    server = await startProductionServer({ database, env: { ONA_RUNTIME: "host" } });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("runs environments as the server's own processes, and says so at start, in health and in ona-admin", async () => {
    expect(server.output()).toContain("ONA_RUNTIME=host: environments run without a sandbox");
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { runners: { isolation: string }[] };
    expect(health.runners).toEqual([{ id: "local", isolation: "host" }]);
    expect(runnerList(server, databaseUrl)).toMatch(/^local\tlocal\tisolation: host\t/m);
    expect(runnerList(server, databaseUrl)).toContain("warning: ONA_RUNTIME=host");

    const token = await tokenFor(server);
    const created = await mutate(server.url, "environment.create", { contextUrl: makeRepository() }, { token });
    const environment = await settled(server, token, (created.data as { environment: Environment }).environment.id);
    expect(environment.status.failureMessage).toEqual([]);
    const exec = await mutate(server.url, "environment.exec", { id: environment.id, command: ["sh", "-c", "id -u; pwd"] }, { token });
    const output = exec.data as ExecOutput;
    // No sandbox: the server's own user, in the folder on the host.
    expect(output.stdout).toBe(`${process.getuid?.() ?? ""}\n${join(server.dataDir, "environments", environment.id)}\n`);
  });
});
