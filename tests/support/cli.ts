import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { repositoryDir } from "./repositories";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
/** The built CLI: `pnpm --filter @ona/cli build` writes it. */
export const ONA_BIN = join(REPO_ROOT, "packages/cli/dist/ona.js");

export function assertCliBuilt(): void {
  if (!existsSync(ONA_BIN)) throw new Error(`${ONA_BIN} is missing: run pnpm --filter @ona/cli build first`);
}

export interface OnaResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A user's machine for the CLI: a HOME and XDG_CONFIG_HOME of its own (so credentials never
 * leak between tests), and a bin folder with `ona` in it (a symlink to the built binary, as
 * `npm i -g` or `pnpm link --global` would make) first on PATH.
 */
export interface CliHome {
  dir: string;
  home: string;
  configHome: string;
  binDir: string;
  credentialsPath: string;
  /** The environment a process gets: no ONA_* from the test runner, plus `extra`. */
  env(extra?: Record<string, string | undefined>): Record<string, string>;
  /** Runs `ona …` (the built binary) and collects its output and exit code. */
  ona(args: string[], options?: RunOptions): Promise<OnaResult>;
  /** Runs any program with this home's environment (bash, python3, …). */
  run(command: string, args: string[], options?: RunOptions): Promise<OnaResult>;
  remove(): void;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

export function makeCliHome(): CliHome {
  assertCliBuilt();
  const dir = mkdtempSync(join(tmpdir(), "ona-cli-"));
  const home = join(dir, "home");
  const configHome = join(dir, "config");
  const binDir = join(dir, "bin");
  for (const folder of [home, binDir]) mkdirSync(folder, { recursive: true });
  symlinkSync(ONA_BIN, join(binDir, "ona"));

  const env = (extra: Record<string, string | undefined> = {}) => {
    const base: Record<string, string | undefined> = {
      PATH: [binDir, dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
      HOME: home,
      XDG_CONFIG_HOME: configHome,
      LANG: "C.UTF-8",
      TMPDIR: process.env.TMPDIR,
      ...extra,
    };
    return Object.fromEntries(Object.entries(base).filter((entry): entry is [string, string] => entry[1] !== undefined));
  };

  const run = (command: string, args: string[], options: RunOptions = {}) =>
    runProcess(command, args, { ...options, env: env(options.env), cwd: options.cwd ?? home });

  return {
    dir,
    home,
    configHome,
    binDir,
    credentialsPath: join(configHome, "ona", "credentials.json"),
    env,
    run,
    ona: (args, options = {}) => run(process.execPath, [ONA_BIN, ...args], options),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function runProcess(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string; input?: string; timeoutMs?: number },
): Promise<OnaResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * A git repository under TEST_REPOSITORIES, to use as a context URL: one commit with a README and,
 * unless `setup` is false, an `.ona/setup.sh` that prints a line.
 */
export function makeGitRepository(options: { setup?: string | false } = {}): { path: string; remove(): void } {
  const path = repositoryDir();
  writeFileSync(join(path, "README.md"), "# a test repository\n");
  if (options.setup !== false) {
    mkdirSync(join(path, ".ona"));
    writeFileSync(join(path, ".ona/setup.sh"), options.setup ?? "#!/bin/sh\necho setup ran\n", { mode: 0o755 });
  }
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.email=test@example.com", "-c", "user.name=Test", "-c", "init.defaultBranch=main", ...args], {
      cwd: path,
      stdio: "ignore",
    });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
