import type { ExecOutput } from "@ona/contracts";

/**
 * What the API asks of a runner directly. Phase changes never go through here: the API writes
 * the desired phase to the database and the runner's reconciler acts on it. Only `exec` needs
 * the runner itself (in-process for the embedded runner, over HTTP for a separate one).
 */
export interface RunnerClient {
  exec(request: ExecRequest): Promise<ExecOutput>;
  /**
   * A hint that a desired phase just changed in the database: an in-process runner looks now
   * instead of at its next poll. Optional, and only a hint: phases still travel through the database.
   */
  nudge?(): void;
}

export interface ExecRequest {
  environmentId: string;
  command: string[];
  timeoutSeconds: number;
}

/** Output beyond this many bytes per stream is cut, and the result says so. */
export const EXEC_OUTPUT_CAP_BYTES = 1024 * 1024;
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 60;
