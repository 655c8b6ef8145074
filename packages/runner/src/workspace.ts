import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ENVIRONMENT_ID_VARIABLE, ProcessTracker } from "./processes";

/**
 * Where an environment lives on disk:
 *   <environmentsDir>/<id>                 the checkout: the repository, and nothing of ours
 *   <environmentsDir>/.ona-runner/<id>/    the runner's notes about it (outside the checkout,
 *                                           so no repository content can collide with them)
 *     pids/<pgid>                          its process groups
 *     setup-done                           the setup has run to success
 *     clone-<random>/                      a clone in progress; renamed to the checkout when
 *                                           complete, so a half clone is never taken for one
 */
export interface EnvironmentPaths {
  checkout: string;
  state: string;
  pids: string;
  setupDone: string;
}

export const RUNNER_STATE_DIR = ".ona-runner";

/** Ids become folder names: only what the API generates (cuid-like) is accepted. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isSafeEnvironmentId(id: string): boolean {
  return SAFE_ID.test(id);
}

export function environmentPaths(environmentsDir: string, environmentId: string): EnvironmentPaths {
  if (!isSafeEnvironmentId(environmentId)) throw new Error(`environment id "${environmentId}" cannot be a folder name`);
  const root = resolve(environmentsDir);
  const state = join(root, RUNNER_STATE_DIR, environmentId);
  return {
    checkout: join(root, environmentId),
    state,
    pids: join(state, "pids"),
    setupDone: join(state, "setup-done"),
  };
}

export function trackerFor(paths: EnvironmentPaths, environmentId: string): ProcessTracker {
  return new ProcessTracker(paths.pids, environmentId);
}

/**
 * Variables that configure the server the runner may be embedded in. An environment runs the
 * code of whoever created it, so it must never see them (a database URL or a server secret
 * would hand that person everybody's data).
 */
const SERVER_ONLY_VARIABLE = /^(ONA_.*|DATABASE_URL|BETTER_AUTH_.*|.*_SECRET|.*_SECRET_KEY|PG(PASSWORD|USER|HOST|PORT|DATABASE))$/;

export interface EnvironmentIdentity {
  id: string;
  contextUrl: string;
}

/** The variables every process of an environment gets: the runner's own (minus server secrets) and its identity. */
export function environmentVariables(base: NodeJS.ProcessEnv, environment: EnvironmentIdentity): NodeJS.ProcessEnv {
  // Copied whole, then pruned: apps may augment ProcessEnv with required keys (Next's NODE_ENV).
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of Object.keys(env)) {
    if (SERVER_ONLY_VARIABLE.test(name)) delete env[name];
  }
  env[ENVIRONMENT_ID_VARIABLE] = environment.id;
  env.ONA_CONTEXT_URL = environment.contextUrl;
  env.HOME = base.HOME ?? homedir();
  return env;
}
