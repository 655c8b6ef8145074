import { createServer } from "node:http";
import { consoleLogger } from "@ona/api";
import { migrate, openDatabase } from "@ona/db";
import { createLocalRunner, createRunnerHttpHandler } from "@ona/runner";
import { ConfigError, loadConfig } from "./config";
import { migrationsDir, runnerIsolationOptions } from "./system";

/**
 * `pnpm ona-runner`: the local runner as its own process, for a scaled setup where the web
 * servers run with ONA_EMBEDDED_RUNNER=false against the same PostgreSQL database. It claims
 * its environments from the database and serves exec to the web servers on ONA_RUNNER_PORT.
 */
async function main() {
  const config = loadConfig();
  await migrate(config.databaseUrl, { migrationsDir: migrationsDir() });
  const database = await openDatabase(config.databaseUrl);
  const runner = createLocalRunner({
      db: database.db,
      environmentsDir: config.environmentsDir,
      leaseMs: config.runnerLeaseMs,
      logger: consoleLogger,
      ...runnerIsolationOptions(config),
    });
  await runner.start();
  const server = createServer(createRunnerHttpHandler(runner, { sharedSecret: config.runnerSecret }));
  server.listen(config.runnerPort, "127.0.0.1", () =>
    console.error(`Ona runner is working; exec on http://127.0.0.1:${config.runnerPort}`),
  );
  const shutdown = () => {
    server.close();
    runner
      .stop()
      .then(() => database.close())
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`the Ona runner could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
