import { checkTokenFormat, TOKEN_LENGTH, TOKEN_PREFIX } from "@ona/contracts";
import { createClient, DEFAULT_HOST, normalizeHost, type OnaClient } from "@ona/sdk";
import { CredentialsStore, type CredentialsFile } from "./credentials";
import { CliError, ExitCode, tokenPage, type ErrorContext } from "./errors";
import type { Format, Writer } from "./output";

import { VERSION } from "./version";

export { VERSION };

/** Everything the CLI touches outside itself, so that tests can run it in-process. */
export interface Io {
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdinIsTTY: boolean;
  fetch?: typeof fetch;
  /** Reads a line from the terminal without echoing it (only called when stdin is a TTY). */
  readSecret?: (prompt: string) => Promise<string>;
}

export interface GlobalOptions {
  output: Format;
  host?: string;
  token?: string;
  verbose?: boolean;
}

export type Source = "--host" | "ONA_HOST" | "--token" | "ONA_TOKEN" | "stored credentials" | "default";

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Why a string is not a personal access token, in words; null when it is well-formed. */
export function tokenFormatProblem(token: string, source: string): string | null {
  const check = checkTokenFormat(token);
  if (check.ok) return null;
  return check.problem === "bad-checksum"
    ? `the token from ${source} is not valid: its checksum does not match, so it was probably mistyped or cut short`
    : `the token from ${source} is not a personal access token: those start with ${TOKEN_PREFIX} and are ${TOKEN_LENGTH} characters long`;
}

/** One command's view of the world: options, credentials, the client, stdout and stderr. */
export class App {
  readonly store: CredentialsStore;
  private file: CredentialsFile | undefined;
  /** The process exit code when the command succeeds (exec passes on the remote command's). */
  exitCode = 0;

  constructor(
    readonly io: Io,
    readonly options: GlobalOptions,
    /** Shared with the error handler, so that an error can say what to do next. */
    readonly errorContext: ErrorContext,
  ) {
    this.store = new CredentialsStore(io.env, (message) => this.warn(message));
  }

  get format(): Format {
    return this.options.output;
  }

  get out(): Writer {
    return this.io.stdout;
  }

  /** Progress and notices: stderr, never stdout. */
  info(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`warning: ${message}\n`);
  }

  debug(message: string): void {
    if (this.options.verbose) this.io.stderr.write(`[ona] ${message}\n`);
  }

  credentials(): CredentialsFile {
    this.file ??= this.store.read();
    return this.file;
  }

  /** `--host` > `$ONA_HOST` > the current stored context > http://localhost:3000. */
  resolveHost(): { host: string; source: Source } {
    const flag = nonEmpty(this.options.host);
    const env = nonEmpty(this.io.env.ONA_HOST);
    const resolved: { host: string; source: Source } = flag
      ? { host: normalizeHost(flag), source: "--host" }
      : env
        ? { host: normalizeHost(env), source: "ONA_HOST" }
        : (() => {
            const current = this.store.current(this.credentials());
            return current ? { host: current.host, source: "stored credentials" as const } : { host: normalizeHost(DEFAULT_HOST), source: "default" as const };
          })();
    this.errorContext.host = resolved.host;
    return resolved;
  }

  /** `--token` > `$ONA_TOKEN` > the token stored for this host. */
  resolveToken(host: string): { token: string; source: Source } | undefined {
    const flag = nonEmpty(this.options.token);
    if (flag) return { token: flag, source: "--token" };
    const env = nonEmpty(this.io.env.ONA_TOKEN);
    if (env) return { token: env, source: "ONA_TOKEN" };
    const stored = this.store.forHost(this.credentials(), host);
    return stored ? { token: stored.token, source: "stored credentials" } : undefined;
  }

  /** A client for the resolved host, authenticated with the resolved token (checked offline first). */
  client(): OnaClient {
    const { host, source: hostSource } = this.resolveHost();
    const resolved = this.resolveToken(host);
    if (!resolved) {
      throw new CliError(
        `not logged in to ${host}`,
        ExitCode.AUTH,
        `run ona login --token <token>, or set ONA_TOKEN (create a token at ${tokenPage(host)})`,
      );
    }
    this.errorContext.tokenSource = resolved.source;
    const problem = tokenFormatProblem(resolved.token, resolved.source);
    if (problem) {
      const fix =
        resolved.source === "stored credentials"
          ? "run ona login --token <token> again"
          : resolved.source === "ONA_TOKEN"
            ? "set ONA_TOKEN to the token exactly as it was shown"
            : "pass the token exactly as it was shown";
      throw new CliError(problem, ExitCode.AUTH, `${fix} (create a new one at ${tokenPage(host)} if it is lost)`);
    }
    this.debug(`host ${host} (from ${hostSource}), token from ${resolved.source}`);
    return this.clientFor(host, resolved.token);
  }

  clientFor(host: string, token: string): OnaClient {
    return createClient({ host, token, fetch: this.fetch(), userAgent: `ona-cli/${VERSION} node/${process.versions.node} ${process.platform}` });
  }

  /** The fetch the SDK uses; with --verbose it logs each request (never its headers). */
  private fetch(): typeof fetch {
    const base = this.io.fetch ?? globalThis.fetch;
    if (!this.options.verbose) return base;
    return async (input, init) => {
      const started = performance.now();
      const url = input instanceof Request ? input.url : String(input);
      this.debug(`→ ${init?.method ?? "GET"} ${url.replace(/\?.*$/, "")}`);
      try {
        const response = await base(input, init);
        this.debug(`← ${response.status} in ${Math.round(performance.now() - started)} ms`);
        return response;
      } catch (error) {
        this.debug(`← failed after ${Math.round(performance.now() - started)} ms: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
    };
  }
}
