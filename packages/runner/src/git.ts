import { isAcceptableBranch, redactUrl } from "./context-url";
import type { EnvironmentLogWriter } from "./environment-log";
import { StepAborted, StepFailure, type AbortReason } from "./errors";
import type { Isolation } from "./isolation";
import type { RepositorySource } from "./repository-source";
import type { EnvironmentIdentity } from "./workspace";

export interface CloneOptions {
  source: RepositorySource;
  isolation: Isolation;
  environment: EnvironmentIdentity;
  /** The empty checkout, as the environment's processes see it. */
  destination: string;
  log: EnvironmentLogWriter;
  timeoutMs: number;
  signal: AbortSignal;
}

const TRUSTING_UPLOAD_PACK = "git -c safe.directory='*' upload-pack";

/** What git said on stderr is kept up to this size for the failure message. */
const STDERR_TAIL_BYTES = 16 * 1024;

/**
 * `git clone` of the context URL inside the environment, run as argv (never through a shell),
 * with `--` before the URL so that it cannot be read as an option, prompts switched off (a URL
 * needing credentials fails instead of hanging), the `ext::` transport refused (it runs
 * arbitrary commands), and local repositories cloned through git's transport rather than by
 * copying or linking their object files.
 */
export async function cloneRepository(options: CloneOptions): Promise<void> {
  const { source } = options;
  const url = source.kind === "local" ? source.path : source.url;
  const { branch } = source;
  if (branch !== null && !isAcceptableBranch(branch)) {
    throw new StepFailure(`"${branch}" in the context URL is not a valid branch name`);
  }
  const argv = [
    "git",
    "-c",
    "protocol.ext.allow=never",
    "clone",
    // A local repository belongs to another uid than the environment's, and git's upload-pack
    // refuses such a repository unless told otherwise (and takes that only from its own command
    // line); set for the clone and kept in the checkout's config, so later fetches work too.
    // Only that repository and the environment's own files are there to be read.
    ...(source.kind === "local" ? ["--no-local", `--upload-pack=${TRUSTING_UPLOAD_PACK}`, "-c", `remote.origin.uploadpack=${TRUSTING_UPLOAD_PACK}`] : []),
    ...(branch === null ? [] : ["--branch", branch]),
    "--",
    url,
    options.destination,
  ];
  const shown = redactUrl(url);
  options.log.system(`cloning ${shown}${branch === null ? "" : ` (branch ${branch})`}`);
  await options.log.flush();

  const stdout = options.log.lines("stdout");
  const stderr = options.log.lines("stderr");
  let stderrTail = Buffer.alloc(0);
  const started = options.isolation.start(options.environment, {
    argv,
    extraEnv: {
      GIT_TERMINAL_PROMPT: "0",
      // ssh would ask about unknown host keys or passphrases on a terminal the runner has not got.
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
    },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onStdout: (chunk) => stdout.write(chunk),
    onStderr: (chunk) => {
      stderr.write(chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES);
    },
  });
  const result = await started.result;
  stdout.end();
  stderr.end();

  if (result.aborted) throw new StepAborted(abortReasonOf(options.signal));
  if (result.spawnError !== null) {
    throw new StepFailure(`git is not installed or cannot be run (${result.spawnError.message}); install git on the runner's machine`);
  }
  if (result.timedOut) {
    throw new StepFailure(`cloning ${shown} did not finish within ${Math.round(options.timeoutMs / 1000)} s`);
  }
  if (result.exitCode !== 0) {
    throw new StepFailure(`cloning ${shown} failed: ${gitReason(stderrTail.toString("utf8"), result.exitCode)}`);
  }
  options.log.system("clone finished");
}

/** git's own words: its fatal/error lines, else its last line. */
export function gitReason(stderr: string, exitCode: number): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const errors = lines.filter((line) => /^(fatal|error):/i.test(line));
  const chosen = errors.length > 0 ? errors : lines.slice(-1);
  return chosen.length > 0 ? chosen.join("; ") : `git exited with code ${exitCode}`;
}

export function abortReasonOf(signal: AbortSignal): AbortReason {
  const reason: unknown = signal.reason;
  return reason === "lease-lost" || reason === "superseded" || reason === "runner-stopping" ? reason : "runner-stopping";
}
