import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestDatabase } from "@ona/db/testing";
import { freePort, supervise } from "./processes";
import { TEST_REPOSITORIES, removeDataDir } from "./repositories";

export { freePort };

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const SERVER_ENTRY = join(REPO_ROOT, "apps/web/dist/server.js");

export interface ProductionServer {
  url: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server printed (stdout and stderr), for leak checks and failure reports. */
  output(): string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the built web server (`pnpm start`'s `node apps/web/dist/server.js`) as its own
 * process on a free port with its own data folder: pages, auth routes, API and embedded runner.
 */
export async function startProductionServer(options: {
  database?: TestDatabase;
  dataDir?: string;
  env?: Record<string, string>;
  port?: number;
} = {}): Promise<ProductionServer> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run pnpm build first`);
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "ona-server-"));
  const url = `http://localhost:${port}`;
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      PORT: String(port),
      HOST: "127.0.0.1",
      ONA_DATA_DIR: dataDir,
      ONA_LOCAL_REPOSITORIES: TEST_REPOSITORIES,
      ...(options.database ? { DATABASE_URL: options.database.url } : {}),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const supervised = supervise(child);

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (supervised.ended()) throw new Error(`the server exited with ${child.exitCode ?? child.signalCode}:\n${supervised.output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the server did not become healthy in 60 s:\n${supervised.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    port,
    dataDir,
    process: child,
    output: supervised.output,
    kill: supervised.kill,
    async stop() {
      await supervised.stop();
      if (!options.dataDir) await removeDataDir(dataDir);
    },
  };
}
