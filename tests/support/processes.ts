import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A loopback port nothing listens on right now: bound, then closed again. */
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

export interface SupervisedChild {
  /** Everything the child printed (stdout and stderr), for leak checks and failure reports. */
  output(): string;
  /** True once the child has ended, by exit or by signal. */
  ended(): boolean;
  /** SIGKILL, as a crash would, and wait for the end. */
  kill(): Promise<void>;
  /** SIGTERM, waiting for it to end its work (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Collects a spawned child's output (stdio must be piped) and ends it on request. */
export function supervise(child: ChildProcess): SupervisedChild {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    output: () => output,
    ended,
    async kill() {
      if (!ended()) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (!ended()) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
