// A throwaway PostgreSQL 15 server for tests: its own data folder in a temp folder, a free
// loopback port, trust authentication, and durability switched off (nothing here outlives the
// test run). The machines have the server binaries from Debian but no running server, and the
// tests must not depend on one (DESIGN.md §7: tests start their own on a loopback port).
import { execFile, execFileSync } from "node:child_process";
import { existsSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export const DEFAULT_POSTGRES_BIN_DIR = "/usr/lib/postgresql/15/bin";

export interface StartPostgresOptions {
  /** Folder with initdb, pg_ctl and postgres. */
  binDir?: string;
  /**
   * Log every statement any client sends, each line prefixed with its database's name and a
   * colon, so a test can count what a request cost the database from every client (Prisma's,
   * and libraries' own connections), as the server saw it.
   */
  logStatements?: boolean;
}

export interface CreateDatabaseOptions {
  /** Copy this database instead of the empty template1 (it must have no open connections). */
  template?: string;
}

export interface PostgresServer {
  port: number;
  /** The connection URL of a database on this server (superuser `postgres`, no password). */
  urlFor(dbName: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string, options?: CreateDatabaseOptions): Promise<string>;
  /** Drops a database, closing any connections still open to it. */
  dropDatabase(name: string): Promise<void>;
  /** The server's log file (every statement is in it with `logStatements`). */
  logFile: string;
  /** Whether it was started with `logStatements`. */
  logsStatements: boolean;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A port nobody listens on right now (the OS picks it; a race with another process is retried by the caller). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * initdb refuses to run as root, so as root (CI) every server command runs as the `postgres`
 * user on a folder it owns; as anyone else, directly as that user.
 */
function commandRunner(binDir: string): { argv(cmd: string, args: string[]): [string, string[]]; owner?: { uid: number; gid: number } } {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) return { argv: (cmd, args) => [join(binDir, cmd), args] };
  const id = (flag: string): number => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return {
    argv: (cmd, args) => ["runuser", ["-u", "postgres", "--", join(binDir, cmd), ...args]],
    owner: { uid: id("-u"), gid: id("-g") },
  };
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(file, args, { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[file, ...args].join(" ")} failed: ${stderr.trim() || error.message}`));
      else resolveRun(stdout);
    });
  });
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? DEFAULT_POSTGRES_BIN_DIR;
  if (!existsSync(join(binDir, "initdb"))) {
    throw new Error(`PostgreSQL server binaries not found in ${binDir}: install them with apt-get install -y postgresql-15`);
  }
  const runner = commandRunner(binDir);
  // Short names: the socket path (…/s/.s.PGSQL.<port>) must stay under ~100 bytes.
  const root = mkdtempSync(join(tmpdir(), "ona-pg-"));
  const dataDir = join(root, "data");
  const socketDir = join(root, "s");
  const logFile = join(root, "postgres.log");
  mkdirSync(socketDir);
  if (runner.owner) {
    for (const path of [root, socketDir]) chownSync(path, runner.owner.uid, runner.owner.gid);
  }
  const pgctl = (args: string[]): Promise<string> => run(...runner.argv("pg_ctl", ["-D", dataDir, ...args]));

  // If the test process dies without stop(), do not leave a server running behind it.
  let stopped = false;
  const stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      const [file, args] = runner.argv("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
      execFileSync(file, args, { stdio: "ignore" });
    } catch {
      // Not running (start failed, or already stopped).
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", stopNow);

  try {
    await run(...runner.argv("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"]));
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings = [
        "-c listen_addresses=127.0.0.1",
        `-p ${port}`,
        `-k ${socketDir}`,
        // A test database need not survive a crash; these make writes several times faster.
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        // Every test file opens pools of its own; the default 100 runs out.
        "-c max_connections=300",
        ...(options.logStatements ? ["-c log_statement=all -c log_line_prefix=%d:"] : []),
      ].join(" ");
      try {
        await pgctl(["-l", logFile, "-o", settings, "-w", "start"]);
        break;
      } catch (error) {
        // Most likely someone took the port between freePort() and the bind: try another.
        const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n") : "";
        if (attempt >= 3) throw new Error(`PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}\n${log}`);
      }
    }

    const urlFor = (dbName: string): string => `postgresql://postgres@127.0.0.1:${port}/${encodeURIComponent(dbName)}`;
    const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ connectionString: urlFor("postgres") });
      client.on("error", () => undefined); // a lost connection rejects the query instead
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    };

    return {
      port,
      urlFor,
      logFile,
      logsStatements: options.logStatements === true,
      async createDatabase(name, createOptions = {}) {
        const template = createOptions.template === undefined ? "" : ` TEMPLATE ${quoteIdent(createOptions.template)}`;
        await admin((client) => client.query(`CREATE DATABASE ${quoteIdent(name)}${template}`));
        return urlFor(name);
      },
      async dropDatabase(name) {
        await admin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
      },
      async stop() {
        if (stopped) return;
        process.removeListener("exit", stopNow);
        try {
          await pgctl(["-m", "fast", "-w", "stop"]);
        } finally {
          stopped = true;
          rmSync(root, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    process.removeListener("exit", stopNow);
    stopNow();
    throw error;
  }
}
