import type { EnvironmentLogWriter } from "./environment-log";
import { StepAborted, StepFailure, messageOf } from "./errors";
import { abortReasonOf } from "./git";
import type { Isolation } from "./isolation";
import { parseJsonc } from "./jsonc";
import { inspectRepositoryFile, readRepositoryFile } from "./repository-files";
import type { EnvironmentIdentity } from "./workspace";

/** One command of a repository's setup, run in the checkout. */
export interface SetupCommand {
  /** How the log and failure messages name it, e.g. ".ona/setup.sh". */
  label: string;
  argv: string[];
}

export const ONA_SETUP_SCRIPT = ".ona/setup.sh";
const DEVCONTAINER_FILES = [".devcontainer/devcontainer.json", ".devcontainer.json"];

/**
 * The setup a repository declares: `.ona/setup.sh` (run with bash) wins; otherwise the
 * `postCreateCommand` of its devcontainer.json — a string runs through `sh -c` as the
 * devcontainer spec says, an array is an argv, an object is several named commands (run one
 * after the other here; the spec allows them in parallel). No setup → an empty list.
 */
export function findSetup(checkout: string): SetupCommand[] {
  // Looked at without following links. bash reads the script inside the environment, where a
  // link can lead nowhere but the environment's own files, so a linked script runs too.
  const script = inspectRepositoryFile(checkout, ONA_SETUP_SCRIPT);
  if (script.kind === "file" || (script.kind === "refused" && script.link)) return [{ label: ONA_SETUP_SCRIPT, argv: ["bash", ONA_SETUP_SCRIPT] }];
  if (script.kind === "refused") throw new StepFailure(`the setup cannot be run: ${script.reason}`);
  for (const file of DEVCONTAINER_FILES) {
    const read = readRepositoryFile(checkout, file);
    if (read.kind === "missing") continue;
    if (read.kind === "refused") throw new StepFailure(`the setup cannot be read: ${read.reason}`);
    let config: unknown;
    try {
      config = parseJsonc(read.text);
    } catch (error) {
      throw new StepFailure(`${file} is not valid JSON: ${messageOf(error)}`);
    }
    if (typeof config !== "object" || config === null || !("postCreateCommand" in config)) return [];
    return commandsOf(config.postCreateCommand, `${file} postCreateCommand`);
  }
  return [];
}

function commandsOf(value: unknown, label: string): SetupCommand[] {
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") return [{ label, argv: ["sh", "-c", value] }];
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    if (!value.every((part): part is string => typeof part === "string")) {
      throw new StepFailure(`${label} must be a string, an array of strings or an object of those`);
    }
    return [{ label, argv: value }];
  }
  if (typeof value === "object") {
    return Object.entries(value).flatMap(([name, command]) => {
      if (typeof command === "object" && command !== null && !Array.isArray(command)) {
        throw new StepFailure(`${label} "${name}" must be a string or an array of strings`);
      }
      return commandsOf(command, `${label} "${name}"`);
    });
  }
  throw new StepFailure(`${label} must be a string, an array of strings or an object of those`);
}

export interface RunSetupOptions {
  isolation: Isolation;
  environment: EnvironmentIdentity;
  commands: SetupCommand[];
  log: EnvironmentLogWriter;
  timeoutMs: number;
  killGraceMs: number;
  signal: AbortSignal;
}

/**
 * Runs the setup commands in order, their output going to the environment's log. The time
 * limit covers them all. Processes a command leaves running in the background stay (they are
 * the environment's, tracked, and ended by stop).
 */
export async function runSetup(options: RunSetupOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (const command of options.commands) {
    options.log.system(`running ${command.label}`);
    await options.log.flush();
    const stdout = options.log.lines("stdout");
    const stderr = options.log.lines("stderr");
    const started = options.isolation.start(options.environment, {
      argv: command.argv,
      timeoutMs: Math.max(0, deadline - Date.now()),
      killGraceMs: options.killGraceMs,
      signal: options.signal,
      onStdout: (chunk) => stdout.write(chunk),
      onStderr: (chunk) => stderr.write(chunk),
    });
    const result = await started.result;
    stdout.end();
    stderr.end();
    if (result.aborted) throw new StepAborted(abortReasonOf(options.signal));
    if (result.spawnError !== null) {
      const message = `setup (${command.label}) could not start ${command.argv[0] ?? ""}: ${result.spawnError.message}`;
      options.log.system(message);
      throw new StepFailure(message);
    }
    if (result.timedOut) {
      const message = `setup (${command.label}) did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`;
      options.log.system(message);
      throw new StepFailure(message);
    }
    options.log.system(`setup exited with ${result.exitCode}`);
    if (result.exitCode !== 0) {
      throw new StepFailure(
        `setup (${command.label}) exited with code ${result.exitCode}; see the environment's logs (ona environment logs)`,
      );
    }
  }
}
