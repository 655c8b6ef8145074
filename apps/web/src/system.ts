import { join } from "node:path";
import { createOnaApi, consoleLogger, type OnaApi } from "@ona/api";
import { migrate, openDatabase, type Database } from "@ona/db";
import {
  createLocalRunner,
  createRemoteRunnerClient,
  markEnvironmentsOfSilentRunners,
  type LocalRunner,
  type RunnerClient,
} from "@ona/runner";
import { repoRoot, type ServerConfig } from "./config";

/** Where the committed migration SQL lives (the server is bundled, so it is passed explicitly). */
export const migrationsDir = () => join(repoRoot(), "packages/db/migrations");

/** Environments whose runner has been silent this long get a failure message instead of waiting forever. */
const SILENT_RUNNER_AFTER_MS = 2 * 60_000;
const WATCHDOG_INTERVAL_MS = 30_000;

export interface OnaSystem {
  database: Database;
  api: OnaApi;
  runner: LocalRunner | null;
  close(): Promise<void>;
}

/** The runner's share of the configuration: how it isolates environments. */
export function runnerIsolationOptions(config: ServerConfig) {
  return {
    runtime: config.isolation.runtime,
    localRepositories: config.isolation.localRepositories,
    protectedDirs: config.isolation.protectedDirs,
    sandboxNetwork: config.isolation.sandboxNetwork,
    sandboxUids: config.isolation.sandboxUids,
  };
}

/** Migrates and opens the database, starts the embedded runner unless told not to, and the API. */
export async function startSystem(config: ServerConfig): Promise<OnaSystem> {
  await migrate(config.databaseUrl, { migrationsDir: migrationsDir() });
  const database = await openDatabase(config.databaseUrl);
  let runner: LocalRunner | null = null;
  let runnerClient: RunnerClient;
  if (config.embeddedRunner) {
    runner = createLocalRunner({
      db: database.db,
      environmentsDir: config.environmentsDir,
      leaseMs: config.runnerLeaseMs,
      logger: consoleLogger,
      ...runnerIsolationOptions(config),
    });
    await runner.start();
    runnerClient = runner;
  } else {
    runnerClient = createRemoteRunnerClient({
      url: config.runnerUrl ?? `http://127.0.0.1:${config.runnerPort}`,
      sharedSecret: config.runnerSecret,
    });
  }
  const api = await createOnaApi({ database, config: config.api, runner: runnerClient });
  const watchdog = setInterval(() => {
    markEnvironmentsOfSilentRunners({ db: database.db, clock: () => new Date(), staleAfterMs: SILENT_RUNNER_AFTER_MS }).catch(
      (error: unknown) => consoleLogger.warn("runner watchdog failed", { error: String(error) }),
    );
  }, WATCHDOG_INTERVAL_MS);
  watchdog.unref();
  return {
    database,
    api,
    runner,
    async close() {
      clearInterval(watchdog);
      await runner?.stop();
      await api.close();
      await database.close();
    },
  };
}
