import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, unlinkSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { z } from "zod";
import { AccessLevel } from "@ona/contracts";
import { CliError, ExitCode } from "./errors";

/** One server the CLI has logged in to: its host and the token stored for it. */
export const StoredContext = z.object({
  host: z.string(),
  token: z.string(),
  tokenId: z.string().optional(),
  tokenHint: z.string().optional(),
  user: z.string().optional(),
  accessLevel: AccessLevel.optional(),
  expiresAt: z.string().optional(),
  loggedInAt: z.string().optional(),
});
export type StoredContext = z.infer<typeof StoredContext>;

export const CredentialsFile = z.object({
  version: z.literal(1),
  currentContext: z.string().nullable(),
  contexts: z.record(z.string(), StoredContext),
});
export type CredentialsFile = z.infer<typeof CredentialsFile>;

const EMPTY: CredentialsFile = { version: 1, currentContext: null, contexts: {} };

/** `$XDG_CONFIG_HOME/ona/credentials.json`, or `~/.config/ona/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return join(base, "ona", "credentials.json");
}

/** Loopback addresses: a plain-http request to them never leaves the machine. */
const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Whether a request to `host` goes over the network unencrypted: http:// to anything but this machine. */
export function sendsInTheClear(host: string): boolean {
  const url = new URL(host);
  if (url.protocol !== "http:") return false;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return false;
  const family = isIP(hostname);
  if (family === 4) return !loopback.check(hostname, "ipv4");
  if (family === 6) return !loopback.check(hostname, "ipv6");
  return true;
}

/** A context's name: the host's `host[:port][/path]`, e.g. `ona.example.com` or `127.0.0.1:3000`. */
export function contextNameOf(host: string): string {
  const url = new URL(host);
  return `${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

export class CredentialsStore {
  readonly path: string;
  private warned = false;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly warn: (message: string) => void,
  ) {
    this.path = credentialsPath(env);
  }

  read(): CredentialsFile {
    if (!existsSync(this.path)) return structuredClone(EMPTY);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (error) {
      throw this.corrupt(error instanceof Error ? error.message : String(error));
    }
    const parsed = CredentialsFile.safeParse(raw);
    if (!parsed.success) throw this.corrupt(parsed.error.issues[0]?.message ?? "unexpected content");
    this.checkMode();
    return parsed.data;
  }

  /** Like read, but a corrupt file is replaced (login writes a fresh one). */
  readOrReset(): CredentialsFile {
    try {
      return this.read();
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      this.warn(`${error.message}; starting a new one`);
      return structuredClone(EMPTY);
    }
  }

  /** Writes atomically: folder 0700, file 0600, never readable by anyone else even for a moment. */
  write(file: CredentialsFile): void {
    const folder = dirname(this.path);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: "w" });
      chmodSync(temporary, 0o600);
      renameSync(temporary, this.path);
    } catch (error) {
      if (existsSync(temporary)) unlinkSync(temporary);
      throw error;
    }
  }

  current(file: CredentialsFile): StoredContext | undefined {
    return file.currentContext ? file.contexts[file.currentContext] : undefined;
  }

  /** The stored context for a host (as normalized by the SDK). */
  forHost(file: CredentialsFile, host: string): StoredContext | undefined {
    return Object.values(file.contexts).find((context) => context.host === host);
  }

  /** Finds a context by its name or its host URL. */
  find(file: CredentialsFile, nameOrHost: string): [string, StoredContext] | undefined {
    const byName = file.contexts[nameOrHost];
    if (byName) return [nameOrHost, byName];
    const trimmed = nameOrHost.replace(/\/+$/, "");
    return Object.entries(file.contexts).find(([, context]) => context.host === trimmed);
  }

  private corrupt(reason: string): CliError {
    return new CliError(
      `the credentials file ${this.path} cannot be read (${reason})`,
      ExitCode.ERROR,
      "delete it and run ona login --token <token> again",
    );
  }

  private checkMode(): void {
    if (this.warned || process.platform === "win32") return;
    const mode = statSync(this.path).mode & 0o777;
    if (mode & 0o077) {
      this.warned = true;
      this.warn(`${this.path} can be read by other users (mode ${mode.toString(8)}): run chmod 600 ${this.path}`);
    }
  }
}
