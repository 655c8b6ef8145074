import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { AppRouter } from "@ona/api";
import {
  EnvironmentOutput,
  ExecOutput,
  ListAuditLogOutput,
  ListEnvironmentClassesOutput,
  ListEnvironmentsOutput,
  ListTokensOutput,
  LogsOutput,
  PersonalAccessToken,
  WhoAmI,
  type AuditLogEntry,
  type CreateEnvironmentInput,
  type Environment,
  type EnvironmentPhase,
  type ExecInput,
  type ListAuditLogInput,
  type ListEnvironmentsInput,
  type ListTokensInput,
  type LogsInput,
  type Page,
} from "@ona/contracts";
import type { z } from "zod";
import { errorCodeOfHttpStatus, errorFromServerData, InternalError, OnaError, onaError, UnavailableError, ValidationError } from "./errors";
import { waitForEnvironment, type WaitOptions } from "./wait";

export const DEFAULT_HOST = "http://localhost:3000";
export const API_PATH = "/api/trpc";
const DEFAULT_USER_AGENT = `ona-sdk${globalThis.process?.versions?.node ? ` node/${globalThis.process.versions.node}` : ""}`;

export interface ClientOptions {
  /** Where the Ona server is: `https://ona.example.com`. Default: `$ONA_HOST`, then http://localhost:3000. */
  host?: string;
  /** A personal access token (`ona_pat_…`). Default: `$ONA_TOKEN`. */
  token?: string;
  /** A fetch implementation, for tests and instrumentation. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Sent as User-Agent; the audit log records it. Default: `ona-sdk node/<version>`. */
  userAgent?: string;
}

export interface OnaClient {
  /** The normalized host this client talks to. */
  readonly host: string;
  readonly identity: {
    /** Who the token belongs to, and the token's own id, access level and expiry. */
    whoami(): Promise<WhoAmI>;
  };
  readonly tokens: {
    list(input?: ListTokensInput): Promise<ListTokensOutput>;
    /** Every token, page after page. */
    listAll(input?: Omit<ListTokensInput, "nextToken">): AsyncGenerator<PersonalAccessToken>;
    get(id: string): Promise<PersonalAccessToken>;
    revoke(id: string): Promise<PersonalAccessToken>;
  };
  readonly environments: {
    create(input: CreateEnvironmentInput): Promise<Environment>;
    list(input?: ListEnvironmentsInput): Promise<ListEnvironmentsOutput>;
    /** Every environment matching the filter, page after page. */
    listAll(input?: Omit<ListEnvironmentsInput, "nextToken">): AsyncGenerator<Environment>;
    get(id: string): Promise<Environment>;
    start(id: string): Promise<Environment>;
    stop(id: string): Promise<Environment>;
    delete(id: string): Promise<Environment>;
    /** Runs a command in a running environment; resolves with its exit code and output. */
    exec(input: ExecInput): Promise<ExecOutput>;
    logs(input: LogsInput): Promise<LogsOutput>;
    /** Same as `waitForEnvironment(client, id, phase, options)`. */
    waitFor(id: string, phase: EnvironmentPhase, options?: WaitOptions): Promise<Environment>;
  };
  readonly environmentClasses: {
    list(): Promise<ListEnvironmentClassesOutput>;
  };
  readonly auditLogs: {
    list(input?: ListAuditLogInput): Promise<ListAuditLogOutput>;
    /** Every entry matching the filter, newest first, page after page. */
    listAll(input?: Omit<ListAuditLogInput, "nextToken">): AsyncGenerator<AuditLogEntry>;
  };
}

function environmentVariable(name: string): string | undefined {
  const value = globalThis.process?.env?.[name]?.trim();
  return value ? value : undefined;
}

/**
 * `ona.example.com` → `https://ona.example.com`; `localhost:3000` → `http://localhost:3000`;
 * trailing slashes dropped. Throws a ValidationError for anything that is not an http(s) URL.
 */
export function normalizeHost(host: string): string {
  const trimmed = host.trim();
  const local = /^(localhost|127\.[0-9.]+|\[::1\])(:|\/|$)/i.test(trimmed);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `${local ? "http" : "https"}://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ValidationError({ code: "VALIDATION", message: `"${host}" is not a valid host: give a URL such as https://ona.example.com` });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ValidationError({ code: "VALIDATION", message: `"${host}" is not an http or https URL: give a URL such as https://ona.example.com` });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ValidationError({ code: "VALIDATION", message: `"${url.origin}…" has credentials, a query or a fragment: give just the server's URL` });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The host and token a client would use with these options: options, then $ONA_HOST / $ONA_TOKEN. */
export function resolveClientOptions(options: ClientOptions = {}): { host: string; token: string | undefined } {
  return {
    host: normalizeHost(options.host ?? environmentVariable("ONA_HOST") ?? DEFAULT_HOST),
    token: options.token ?? environmentVariable("ONA_TOKEN"),
  };
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    if ("code" in current && typeof current.code === "string" && NETWORK_CODES.has(current.code)) return current.code;
    current = "cause" in current ? current.cause : undefined;
  }
  return undefined;
}

/** The error for a server that cannot be reached at all. */
export function unreachable(host: string, cause: unknown): UnavailableError {
  return new UnavailableError({ code: "UNAVAILABLE", message: `could not reach the Ona server at ${host}: is it running?`, cause });
}

/** Turns whatever a call threw into an OnaError (the server's own error when there is one). */
export function toOnaError(error: unknown, host: string): OnaError {
  if (error instanceof OnaError) return error;
  if (error instanceof TRPCClientError) {
    const cause: unknown = error.cause;
    if (cause instanceof OnaError) return cause;
    const fromServer = errorFromServerData(error.message, error.data, error);
    if (fromServer) return fromServer;
    if (networkCodeOf(cause)) return unreachable(host, cause);
    const response: unknown = error.meta?.response;
    if (response instanceof Response) {
      return onaError({ code: errorCodeOfHttpStatus(response.status), httpStatus: response.status, message: `the server at ${host} answered HTTP ${response.status}: ${error.message}`, cause: error });
    }
    return new InternalError({ code: "INTERNAL", message: `the request to ${host} failed: ${error.message}`, cause: error });
  }
  if (networkCodeOf(error)) return unreachable(host, error);
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError({ code: "INTERNAL", message: `the request to ${host} failed: ${message}`, cause: error });
}

async function* pages<TInput extends { nextToken?: string }, TItem>(
  fetchPage: (input: TInput) => Promise<Page<TItem>>,
  input: TInput,
): AsyncGenerator<TItem> {
  let next: TInput = input;
  for (;;) {
    const page = await fetchPage(next);
    yield* page.items;
    if (!page.nextToken) return;
    next = { ...next, nextToken: page.nextToken };
  }
}

/**
 * A typed client for the Ona API.
 *
 * ```ts
 * const ona = createClient({ token: process.env.ONA_TOKEN });
 * const environment = await ona.environments.create({ contextUrl: "https://github.com/org/repo" });
 * await waitForEnvironment(ona, environment.id, "ENVIRONMENT_PHASE_RUNNING");
 * ```
 */
export function createClient(options: ClientOptions = {}): OnaClient {
  const { host, token } = resolveClientOptions(options);
  const baseFetch = options.fetch ?? globalThis.fetch;

  // Network failures and answers that are not from the Ona API become OnaErrors here, where the
  // response is still at hand; tRPC passes them through as the cause of its own error.
  const fetchApi: typeof fetch = async (input, init) => {
    let response: Response;
    try {
      response = await baseFetch(input, init);
    } catch (error) {
      if (init?.signal?.aborted) throw error;
      throw unreachable(host, error);
    }
    const type = response.headers.get("content-type") ?? "";
    if (!type.includes("json")) {
      await response.body?.cancel().catch(() => undefined);
      const code = response.ok ? "UNAVAILABLE" : errorCodeOfHttpStatus(response.status);
      throw onaError({
        code,
        httpStatus: response.status,
        message: `the server at ${host} answered HTTP ${response.status} with something that is not the Ona API: check the host`,
      });
    }
    return response;
  };

  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${host}${API_PATH}`,
        fetch: fetchApi,
        headers: () => ({
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          "user-agent": options.userAgent ?? DEFAULT_USER_AGENT,
        }),
      }),
    ],
  });

  async function call<T extends z.ZodType>(path: string, schema: T, run: () => Promise<unknown>): Promise<z.infer<T>> {
    let raw: unknown;
    try {
      raw = await run();
    } catch (error) {
      throw toOnaError(error, host);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join(".") || "the answer";
      throw new InternalError({
        code: "INTERNAL",
        path,
        message: `the server's answer to ${path} does not match this client (${where}: ${parsed.error.issues[0]?.message ?? "invalid"}): use a client and a server of the same version`,
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  const environment = (path: string, run: () => Promise<unknown>) =>
    call(path, EnvironmentOutput, run).then((output) => output.environment);

  const client: OnaClient = {
    host,
    identity: {
      whoami: () => call("identity.whoami", WhoAmI, () => trpc.identity.whoami.query()),
    },
    tokens: {
      list: (input = {}) => call("token.list", ListTokensOutput, () => trpc.token.list.query(input)),
      listAll: (input = {}) => pages((page: ListTokensInput) => client.tokens.list(page), input),
      get: (id) => call("token.get", PersonalAccessToken, () => trpc.token.get.query({ id })),
      revoke: (id) => call("token.revoke", PersonalAccessToken, () => trpc.token.revoke.mutate({ id })),
    },
    environments: {
      create: (input) => environment("environment.create", () => trpc.environment.create.mutate(input)),
      list: (input = {}) => call("environment.list", ListEnvironmentsOutput, () => trpc.environment.list.query(input)),
      listAll: (input = {}) => pages((page: ListEnvironmentsInput) => client.environments.list(page), input),
      get: (id) => environment("environment.get", () => trpc.environment.get.query({ id })),
      start: (id) => environment("environment.start", () => trpc.environment.start.mutate({ id })),
      stop: (id) => environment("environment.stop", () => trpc.environment.stop.mutate({ id })),
      delete: (id) => environment("environment.delete", () => trpc.environment.delete.mutate({ id })),
      exec: (input) => call("environment.exec", ExecOutput, () => trpc.environment.exec.mutate(input)),
      logs: (input) => call("environment.logs", LogsOutput, () => trpc.environment.logs.query(input)),
      waitFor: (id, phase, waitOptions) => waitForEnvironment(client, id, phase, waitOptions),
    },
    environmentClasses: {
      list: () => call("environmentClass.list", ListEnvironmentClassesOutput, () => trpc.environmentClass.list.query()),
    },
    auditLogs: {
      list: (input = {}) => call("auditLog.list", ListAuditLogOutput, () => trpc.auditLog.list.query(input)),
      listAll: (input = {}) => pages((page: ListAuditLogInput) => client.auditLogs.list(page), input),
    },
  };
  return client;
}

