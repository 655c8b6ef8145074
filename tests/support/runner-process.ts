import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort, supervise } from "./processes";
import { REPO_ROOT } from "./production-server";
import { TEST_REPOSITORIES } from "./repositories";

export const RUNNER_ENTRY = join(REPO_ROOT, "apps/web/dist/runner.js");

export interface RunnerProcess {
  /** The exec port it listens on (ONA_RUNNER_PORT). */
  port: number;
  process: ChildProcess;
  /** Everything it printed (stdout and stderr), for failure reports. */
  output(): string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** SIGTERM, waiting for it to end its work (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * Starts the built runner (`pnpm ona-runner`, i.e. `node apps/web/dist/runner.js`) as its own
 * process on `dataDir` and `databaseUrl`, and waits until it has registered and listens for exec.
 * A web server reaching it must run with ONA_EMBEDDED_RUNNER=false, the same ONA_SECRET and
 * ONA_RUNNER_URL pointing at `port`.
 */
export async function startRunnerProcess(options: {
  databaseUrl: string;
  dataDir: string;
  secret: string;
  port?: number;
  env?: Record<string, string>;
}): Promise<RunnerProcess> {
  if (!existsSync(RUNNER_ENTRY)) throw new Error(`${RUNNER_ENTRY} is missing: run pnpm build first`);
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [RUNNER_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      ONA_DATA_DIR: options.dataDir,
      ONA_LOCAL_REPOSITORIES: TEST_REPOSITORIES,
      DATABASE_URL: options.databaseUrl,
      ONA_SECRET: options.secret,
      ONA_RUNNER_PORT: String(port),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const supervised = supervise(child);

  const deadline = Date.now() + 60_000;
  // It prints this once it has registered (classes seeded), started its loop and listens.
  while (!supervised.output().includes("Ona runner is working")) {
    if (supervised.ended()) {
      throw new Error(`the runner exited with ${child.exitCode ?? child.signalCode}:\n${supervised.output()}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the runner did not start in 60 s:\n${supervised.output()}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }

  return {
    port,
    process: child,
    output: supervised.output,
    kill: supervised.kill,
    stop: supervised.stop,
  };
}
