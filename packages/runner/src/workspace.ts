import { join, resolve } from "node:path";
import { parseJsonc } from "./jsonc";
import { ENVIRONMENT_ID_VARIABLE, ProcessTracker } from "./processes";
import { readRepositoryFile } from "./repository-files";

/**
 * Where an environment lives on disk:
 *   <environmentsDir>/<id>                 the checkout: the repository, and nothing of ours;
 *                                           in a sandbox, /workspace and HOME
 *   <environmentsDir>/.ona-runner/<id>/    the runner's notes about it (outside the checkout,
 *                                           so no repository content can collide with them,
 *                                           and never visible inside a sandbox)
 *     pids/<pgid>                          its process groups
 *     clone-started, clone-done            a clone began / the checkout holds a complete one
 *     setup-done                           the setup has run to success
 *     sandbox.json, sandbox/               the running sandbox and the files made for it
 */
export interface EnvironmentPaths {
  checkout: string;
  state: string;
  pids: string;
  cloneStarted: string;
  cloneDone: string;
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
    cloneStarted: join(state, "clone-started"),
    cloneDone: join(state, "clone-done"),
    setupDone: join(state, "setup-done"),
  };
}

export function trackerFor(paths: EnvironmentPaths, environmentId: string): ProcessTracker {
  return new ProcessTracker(paths.pids, environmentId);
}

export interface EnvironmentIdentity {
  id: string;
  contextUrl: string;
}

/** What an environment's class lets it use; enforced by the sandbox (see isolation/limits.ts). */
export interface EnvironmentLimits {
  cpus: number;
  memoryBytes: number;
  processes: number;
  diskBytes: number;
}

export interface EnvironmentSpec extends EnvironmentIdentity {
  limits: EnvironmentLimits;
}

/** The PATH of a sandbox: the system's directories, which are all it has. */
export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface VariableContext {
  /** The environment's HOME as its processes see it. */
  home: string;
  /** PATH as its processes see it. */
  path: string;
  /** The runner's own variables: only LANG and TERM are taken from them. */
  runnerEnv: Readonly<Record<string, string | undefined>>;
  /** The checkout, for the variables the repository declares. */
  checkout: string | null;
}

/** Names a repository may not set: the environment's identity and what the runner decides. */
const FIXED = new Set(["HOME", ENVIRONMENT_ID_VARIABLE, "ONA_CONTEXT_URL"]);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The variables every process of an environment gets, by allowlist: PATH, HOME, LANG, TERM,
 * its identity (ONA_ENVIRONMENT_ID, ONA_CONTEXT_URL), and what the repository declares in
 * devcontainer.json (`containerEnv`, then `remoteEnv`). Nothing else of the runner's
 * variables: a database URL, a server secret or a cloud credential in them stays out whatever
 * it is called.
 */
export function environmentVariables(environment: EnvironmentIdentity, context: VariableContext): Record<string, string> {
  const env: Record<string, string> = {};
  Object.assign(env, declaredVariables(context.checkout));
  env.PATH = env.PATH ?? context.path;
  env.LANG = env.LANG ?? context.runnerEnv.LANG ?? "C.UTF-8";
  const term = context.runnerEnv.TERM;
  if (env.TERM === undefined && term !== undefined) env.TERM = term;
  env.HOME = context.home;
  env[ENVIRONMENT_ID_VARIABLE] = environment.id;
  env.ONA_CONTEXT_URL = environment.contextUrl;
  return env;
}

const DEVCONTAINER_FILES = [".devcontainer/devcontainer.json", ".devcontainer.json"];

/** `containerEnv` and `remoteEnv` of the repository's devcontainer.json (string values, valid names). */
function declaredVariables(checkout: string | null): Record<string, string> {
  if (checkout === null) return {};
  for (const file of DEVCONTAINER_FILES) {
    const read = readRepositoryFile(checkout, file);
    if (read.kind === "missing") continue;
    if (read.kind === "refused") return {};
    let config: unknown;
    try {
      config = parseJsonc(read.text);
    } catch {
      return {}; // the setup step reports the broken file
    }
    if (typeof config !== "object" || config === null) return {};
    const declared: Record<string, string> = {};
    for (const key of ["containerEnv", "remoteEnv"] as const) {
      const section: unknown = (config as Record<string, unknown>)[key];
      if (typeof section !== "object" || section === null) continue;
      for (const [name, value] of Object.entries(section)) {
        if (typeof value === "string" && VARIABLE_NAME.test(name) && !FIXED.has(name) && !value.includes("\0")) declared[name] = value;
      }
    }
    return declared;
  }
  return {};
}
