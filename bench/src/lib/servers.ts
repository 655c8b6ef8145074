import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { releaseAllEnvironments } from "@ona/runner";
import { freePort, startDaemon, waitUntil, type Daemon } from "./processes";
import { BENCH_DIR, BENCH_DIST, REPO_ROOT, SERVER_ENTRY } from "./paths";

export interface RunningServer {
  url: string;
  port: number;
  pid: number;
  daemon: Daemon;
  stop(): Promise<void>;
}

export interface ProductionServer extends RunningServer {
  dataDir: string;
  databaseUrl: string;
  /** The environment the server was started with (for admin.js and friends). */
  env: NodeJS.ProcessEnv;
}

const healthy = (port: number) => async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;

/**
 * The built web server (`node apps/web/dist/server.js`, what `pnpm start` runs) as its own
 * process on a free loopback port, with a data folder of its own: pages, auth, API and the
 * embedded runner. SQLite in the data folder unless a DATABASE_URL is given.
 */
export async function startProductionServer(options: { databaseUrl?: string; env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<ProductionServer> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run pnpm --filter @ona/web build (or pnpm bench --build)`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "ona-bench-"));
  const databaseUrl = options.databaseUrl ?? `file:${join(dataDir, "ona.db")}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    HOST: "127.0.0.1",
    ONA_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ONA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...options.env,
  };
  const daemon = startDaemon(process.execPath, [...(options.nodeArgs ?? []), SERVER_ENTRY], env, REPO_ROOT);
  await waitUntil(daemon, "the production server", healthy(port));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: daemon.pid,
    daemon,
    dataDir,
    databaseUrl,
    env,
    async stop() {
      await daemon.stop();
      // Environments outlive the server: end their sandboxes and unmount their disks first.
      await releaseAllEnvironments(join(dataDir, "environments"));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let bundled: Promise<string> | undefined;

/**
 * The bare handler, bundled the way apps/web/scripts/build-server.mjs bundles the production
 * server (esbuild, ESM, workspace packages inlined, node_modules external), so that the two
 * processes differ only in what they do per request.
 */
function bareServerBundle(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(BENCH_DIST, "bare-server.js");
    await build({
      entryPoints: [join(BENCH_DIR, "src/children/bare-server.ts")],
      outfile,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      logLevel: "warning",
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      plugins: [
        {
          // Packages stay external, as in the production build, but are imported by their resolved
          // path: they are found where the workspace package that imports them finds them.
          name: "external-node-modules",
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, async (args) => {
              if (args.path.startsWith("@ona/") || args.pluginData === "resolving") return undefined;
              if (args.path.startsWith("node:")) return { path: args.path, external: true };
              const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "resolving" });
              return resolved.errors.length > 0 ? { path: args.path, external: true } : { path: resolved.path, external: true };
            });
          },
        },
      ],
    });
    return outfile;
  })();
  return bundled;
}

/**
 * A plain node:http server doing the same Prisma read as environment.list for one user, with
 * no tRPC, no auth and no Next: the floor the API is measured against.
 */
export async function startBareServer(options: { databaseUrl: string; userId: string; pageSize: number; nodeArgs?: string[] }): Promise<RunningServer> {
  const entry = await bareServerBundle();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    BENCH_USER_ID: options.userId,
    BENCH_PAGE_SIZE: String(options.pageSize),
  };
  const daemon = startDaemon(process.execPath, [...(options.nodeArgs ?? []), entry], env, BENCH_DIR);
  await waitUntil(daemon, "the bare server", healthy(port));
  return { url: `http://127.0.0.1:${port}`, port, pid: daemon.pid, daemon, stop: () => daemon.stop() };
}
