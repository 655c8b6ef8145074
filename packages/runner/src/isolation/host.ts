import { mkdirSync } from "node:fs";
import { endEnvironmentProcesses, startProcess, type StartedProcess } from "../processes";
import { environmentPaths, environmentVariables, trackerFor, type EnvironmentIdentity } from "../workspace";
import type { InsideProcessOptions, Isolation, IsolationReport } from "./isolation";

/**
 * Single-user mode (ONA_RUNTIME=host): an environment's processes are the runner's own, in
 * its folder, with the runner's user and PATH. Nothing separates them from the server: they
 * can read its secret, its database and every other environment. Only for a machine where the
 * one person who creates environments also owns the server; chosen explicitly, never as a
 * fallback, and reported as a warning at every start and to administrators.
 */
export class HostIsolation implements Isolation {
  readonly report: IsolationReport = {
    mode: "host",
    properties: ["processes: the runner's own user, no namespaces, no limits"],
    warnings: [
      "ONA_RUNTIME=host: environments run without a sandbox, as the server's own user; anyone who can create an environment can read the server secret, the database and every other environment. Use it only on a single-user machine.",
    ],
    problem: null,
  };

  constructor(
    private readonly environmentsDir: string,
    private readonly runnerEnv: Readonly<Record<string, string | undefined>>,
  ) {}

  workspacePath = (environmentId: string): string => environmentPaths(this.environmentsDir, environmentId).checkout;

  prepare(environment: EnvironmentIdentity): Promise<void> {
    mkdirSync(environmentPaths(this.environmentsDir, environment.id).checkout, { recursive: true });
    return Promise.resolve();
  }

  start(environment: EnvironmentIdentity, options: InsideProcessOptions): StartedProcess {
    const paths = environmentPaths(this.environmentsDir, environment.id);
    const { extraEnv, ...rest } = options;
    const env = environmentVariables(environment, {
      home: this.runnerEnv.HOME ?? paths.checkout,
      path: this.runnerEnv.PATH ?? "/usr/bin:/bin",
      runnerEnv: this.runnerEnv,
      checkout: paths.checkout,
    });
    return startProcess({ ...rest, cwd: paths.checkout, env: { ...env, ...extraEnv }, tracker: trackerFor(paths, environment.id) });
  }

  end(environmentId: string, graceMs: number): Promise<{ ended: number; survivors: number[] }> {
    const paths = environmentPaths(this.environmentsDir, environmentId);
    return endEnvironmentProcesses(trackerFor(paths, environmentId), environmentId, graceMs);
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
