import { z } from "zod";
import type { StartProcessOptions, StartedProcess } from "../processes";
import type { EnvironmentIdentity, EnvironmentSpec } from "../workspace";

/**
 * How the processes of an environment are run: in a sandbox of their own (the default), or,
 * in single-user mode, as the runner's own processes. The runtime (runtime.ts) decides what
 * to run and when; an Isolation decides where and with which rights.
 */
export interface Isolation {
  readonly report: IsolationReport;
  /**
   * Readies the environment to run processes: its folder, and for a sandbox its namespaces,
   * user, disk, network and limits. Safe to repeat; cheap when all is in place. Throws a
   * StepFailure that says what to install or enable when environments cannot run here.
   */
  prepare(environment: EnvironmentSpec): Promise<void>;
  /** Starts argv inside the prepared environment, in its checkout, with its variables. */
  start(environment: EnvironmentIdentity, options: InsideProcessOptions): StartedProcess;
  /** The checkout as the environment's processes see it (git clones into it). */
  readonly workspacePath: (environmentId: string) => string;
  /** Ends every process the environment has, its sandbox included. Reports those that would not end. */
  end(environmentId: string, graceMs: number): Promise<{ ended: number; survivors: number[] }>;
  /** Gives back what the environment held on the machine (its disk, uid, groups) before its folders are removed. */
  dispose(environmentId: string): Promise<void>;
}

export type InsideProcessOptions = Omit<StartProcessOptions, "cwd" | "env" | "tracker"> & {
  /** Added to the environment's variables for this process (GIT_TERMINAL_PROMPT for a clone, say). */
  extraEnv?: Record<string, string>;
};

/**
 * What the runner can guarantee, for its start-up log, the runner's row (administrators see it)
 * and the health endpoint. `problem` is set when environments cannot be run at all.
 */
export interface IsolationReport {
  mode: "sandbox" | "host";
  /** One line per property, e.g. "users: one host uid per environment". */
  properties: string[];
  /** What is weaker than it could be, and how to improve it. */
  warnings: string[];
  /** Why no environment can run (what to install or enable), or null. */
  problem: string | null;
}

const StoredReport = z.object({
  mode: z.enum(["sandbox", "host"]),
  properties: z.array(z.string()),
  warnings: z.array(z.string()),
  problem: z.string().nullable(),
});

/** A runner's report as stored in its row; a row written before reports existed says "unknown". */
export function parseIsolationReport(json: string): IsolationReport | { mode: "unknown"; properties: []; warnings: []; problem: null } {
  try {
    return StoredReport.parse(JSON.parse(json));
  } catch {
    return { mode: "unknown", properties: [], warnings: [], problem: null };
  }
}
