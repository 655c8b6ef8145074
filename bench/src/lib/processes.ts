import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { sleep } from "./stats";

/** A port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a program to its end and times it (spawn to exit) in milliseconds. */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

/** Like run(), but fails with the output when the exit code is not 0. */
export async function runChecked(file: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${[file, ...args].join(" ")} exited with ${result.code}:\n${result.stderr.slice(-2000)}${result.stdout.slice(-1000)}`);
  }
  return result;
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running process, collects its output and stops it with SIGTERM (SIGKILL after 10 s). */
export function startDaemon(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Daemon {
  const child = spawn(file, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  return {
    child,
    pid: child.pid,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` until it resolves true, the daemon exits, or the deadline passes. */
export async function waitUntil(daemon: Daemon, what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.child.exitCode !== null) throw new Error(`${what} exited with ${daemon.child.exitCode}:\n${daemon.output().slice(-3000)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`${what} was not ready in ${timeoutMs / 1000} s:\n${daemon.output().slice(-3000)}`);
    }
    await sleep(50);
  }
}

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuTimeMs(pid: number): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks;
}

/** CPU the process uses while nobody talks to it, in ms per second, over `seconds`. */
export async function idleCpu(pid: number, seconds: number): Promise<number> {
  const before = cpuTimeMs(pid);
  await sleep(seconds * 1000);
  return (cpuTimeMs(pid) - before) / seconds;
}
