import type { RunnerClient } from "@ona/runner";

/** Collaborators the services reach beyond the database. */
export interface AppServices {
  /** Runs commands in and reads logs of environments (in-process or over HTTP to a runner). */
  runner: RunnerClient;
}
