import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { openDatabase, type Database, type Db, type EnvironmentRow } from "@ona/db";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { afterAll, beforeAll } from "vitest";
import { createLocalRunner, releaseAllEnvironments, type LocalRunner, type LocalRunnerOptions } from "../src";
import { silentRunnerLogger } from "../src/logger";
import { registerRunner } from "../src/registry";

export const RUNNING = "ENVIRONMENT_PHASE_RUNNING";
export const STOPPED = "ENVIRONMENT_PHASE_STOPPED";
export const DELETED = "ENVIRONMENT_PHASE_DELETED";
export const CREATING = "ENVIRONMENT_PHASE_CREATING";
export const STARTING = "ENVIRONMENT_PHASE_STARTING";

const temporaryDirs: string[] = [];

export function tempDir(prefix = "ona-runner-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

/** Ends the sandboxes of the environments in the temporary folders (they outlive a runner's stop), then removes the folders. */
export async function removeTempDirs(): Promise<void> {
  for (const dir of temporaryDirs.splice(0)) {
    await releaseAllEnvironments(join(dir, "environments"));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Host pids of the processes whose command line has `argument` (a unique one a test gave, say). */
export function hostProcessesWith(argument: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").includes(argument) && pidAlive(Number(name))) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

let uniqueCounter = 0;
/** A sleep duration no other process has in its command line: `sleep <it>` is then findable on the host, whatever pid namespace it runs in. */
export function uniqueSleep(seconds: number): string {
  return `${seconds}.${process.pid}${++uniqueCounter}`;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Where test repositories are made: the one folder the test runners may clone local
 * repositories from (their ONA_LOCAL_REPOSITORIES), apart from their data folders.
 */
export const reposRoot = mkdtempSync(join(tmpdir(), "ona-test-repos-"));
// Environments read them as users of their own, as any repository an operator lists must allow.
chmodSync(reposRoot, 0o755);

/** A real git repository in the repositories' folder: `files` committed on main, each of `branches` one more commit on top. */
export function makeRepo(files: Record<string, string>, branches: Record<string, Record<string, string>> = {}): string {
  const dir = mkdtempSync(join(reposRoot, "repo-"));
  chmodSync(dir, 0o755);
  temporaryDirs.push(dir);
  git(dir, "init", "-q", "-b", "main");
  const write = (entries: Record<string, string>): void => {
    for (const [path, content] of Object.entries(entries)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };
  write({ "README.md": "# test repo\n", ...files });
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  for (const [branch, branchFiles] of Object.entries(branches)) {
    git(dir, "checkout", "-q", "-b", branch);
    write(branchFiles);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", `on ${branch}`);
    git(dir, "checkout", "-q", "main");
  }
  return dir;
}

export interface TestDb {
  database: Database;
  db: Db;
  url: string;
  close(): Promise<void>;
}

/**
 * Always both providers: this package's tests run once per `npm test`, so ONA_TEST_DB (which
 * picks the database of one pass of the integration suites) must not drop either of them here.
 * Narrow a local run by name instead: `vitest run -t postgresql`.
 */
export function providersUnderTest(): ("sqlite" | "postgresql")[] {
  return ["sqlite", "postgresql"];
}

/**
 * The provider's test databases for the enclosing describe block: started before its tests, stopped
 * after them (and the temporary folders removed). `fresh()` gives a test a database of its own.
 */
export function useTestDatabases(provider: "sqlite" | "postgresql"): { fresh(): Promise<TestDb> } {
  let databases: TestDatabases | undefined;
  beforeAll(async () => {
    databases = await startTestDatabases(provider);
  });
  afterAll(async () => {
    await databases?.stop();
    await removeTempDirs();
  });
  return {
    fresh() {
      if (!databases) throw new Error("useTestDatabases: call fresh() from a test or a beforeEach hook");
      return freshDb(databases);
    },
  };
}

async function freshDb(databases: TestDatabases): Promise<TestDb> {
  const fresh = await databases.fresh();
  const database = await openDatabase(fresh.url);
  return {
    database,
    db: database.db,
    url: fresh.url,
    close: async () => {
      await database.close();
      await fresh.drop();
    },
  };
}

let userCounter = 0;

/** Inserts an environment the way the API's create does. */
export async function createEnvironment(
  db: Db,
  contextUrl: string,
  options: { runnerId?: string; classId?: string } = {},
): Promise<EnvironmentRow> {
  const runnerId = options.runnerId ?? "local";
  // The class must exist, as it does once its runner has started once.
  if (options.classId === undefined) await registerRunner(db, { id: runnerId, name: "Local runner", kind: "local" }, () => new Date());
  const userId = `user-${process.pid}-${++userCounter}`;
  await db.user.create({ data: { id: userId, name: "Test User", email: `${userId}@example.com` } });
  return db.environment.create({
    data: {
      userId,
      name: "env",
      contextUrl,
      classId: options.classId ?? `${runnerId}-small`,
      runnerId,
      desiredPhase: RUNNING,
      specVersion: 1,
      phase: CREATING,
    },
  });
}

/** What the API's start/stop/delete do: set the desired phase and bump specVersion. */
export async function setDesiredPhase(db: Db, id: string, desiredPhase: string): Promise<void> {
  await db.environment.update({ where: { id }, data: { desiredPhase, specVersion: { increment: 1 } } });
}

export async function getEnvironment(db: Db, id: string): Promise<EnvironmentRow> {
  return db.environment.findUniqueOrThrow({ where: { id } });
}

export async function logText(db: Db, id: string): Promise<string> {
  const rows = await db.environmentLog.findMany({ where: { environmentId: id }, orderBy: { id: "asc" } });
  return rows.map((row) => `[${row.stream}] ${row.text}`).join("\n");
}

export function failures(row: EnvironmentRow): string[] {
  return JSON.parse(row.failureMessage) as string[];
}

export function testRunner(db: Db, environmentsDir: string, overrides: Partial<LocalRunnerOptions> = {}): LocalRunner {
  return createLocalRunner({
    db,
    environmentsDir,
    logger: silentRunnerLogger,
    leaseMs: 2_000,
    pollIntervalMs: 50,
    heartbeatIntervalMs: 200,
    stopGraceMs: 1_000,
    setupTimeoutMs: 20_000,
    localRepositories: [reposRoot],
    ...overrides,
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Alive and not a zombie (an orphan may wait for an init that does not reap). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}
