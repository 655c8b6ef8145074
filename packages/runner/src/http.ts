import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ExecOutput, MAX_EXEC_TIMEOUT_SECONDS } from "@ona/contracts";
import { z } from "zod";
import type { ExecRequest, RunnerClient } from "./client";
import { RunnerError, messageOf, type RunnerErrorCode } from "./errors";

/** The wire shape of an exec request (what RunnerClient.exec takes). */
export const ExecRequestBody = z.object({
  environmentId: z.string().min(1).max(128),
  command: z
    .array(z.string().max(32_768).refine((arg) => !arg.includes("\0"), "arguments cannot contain NUL bytes"))
    .min(1)
    .max(1000),
  timeoutSeconds: z.number().int().min(1).max(MAX_EXEC_TIMEOUT_SECONDS),
});

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Bodies above this are refused before they are read in full (1000 args × 32 KiB plus JSON overhead). */
const MAX_BODY_BYTES = 40 * 1024 * 1024;

const STATUS: Record<RunnerErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  FAILED_PRECONDITION: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface RunnerHttpOptions {
  /** The bearer secret web servers present; compared in constant time. */
  sharedSecret: string;
}

/**
 * A node:http request listener that serves a runner to the web servers:
 *   POST /exec   Authorization: Bearer <sharedSecret>, body ExecRequest → ExecOutput
 *   GET  /healthz → {"ok":true} (no secret; says nothing but that the process answers)
 * Errors are `{ error: { code, message } }` with the matching status.
 */
export function createRunnerHttpHandler(
  runner: RunnerClient,
  options: RunnerHttpOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  if (options.sharedSecret.length < 16) {
    throw new Error("the runner's shared secret must be at least 16 characters");
  }
  const expected = digest(options.sharedSecret);
  return (request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, new RunnerError("INTERNAL", `runner error: ${messageOf(error)}`));
      else response.destroy();
    });
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      if (request.method !== "GET" && request.method !== "HEAD") return methodNotAllowed(response, "GET, HEAD");
      return sendJson(response, 200, { ok: true });
    }
    if (path !== "/exec") return sendError(response, new RunnerError("NOT_FOUND", `no such endpoint: ${path ?? "/"}`));
    if (request.method !== "POST") return methodNotAllowed(response, "POST");
    if (!authorized(request.headers.authorization, expected)) {
      response.setHeader("WWW-Authenticate", 'Bearer realm="ona-runner"');
      request.resume();
      return sendError(response, new RunnerError("UNAUTHENTICATED", "a valid runner secret is required (Authorization: Bearer …)"));
    }
    const text = await readBody(request);
    if (text === null) return sendError(response, new RunnerError("INVALID_ARGUMENT", `the request body is larger than ${MAX_BODY_BYTES} bytes`));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return sendError(response, new RunnerError("INVALID_ARGUMENT", "the request body is not JSON"));
    }
    const parsed = ExecRequestBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendError(response, new RunnerError("INVALID_ARGUMENT", `invalid exec request: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "bad shape"}`));
    }
    try {
      const output = await runner.exec(parsed.data);
      sendJson(response, 200, output);
    } catch (error) {
      sendError(response, error instanceof RunnerError ? error : new RunnerError("INTERNAL", messageOf(error)));
    }
  }
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** Compares digests, so neither the secret's length nor its content leaks through timing. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const presented = digest(match?.[1] ?? "");
  return timingSafeEqual(presented, expected) && match !== null;
}

function readBody(request: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: RunnerError): void {
  sendJson(response, STATUS[error.code], { error: { code: error.code, message: error.message } });
}

function methodNotAllowed(response: ServerResponse, allow: string): void {
  response.setHeader("Allow", allow);
  sendJson(response, 405, { error: { code: "INVALID_ARGUMENT", message: `method not allowed; use ${allow}` } });
}

export interface RemoteRunnerOptions {
  /** The runner's base URL, e.g. http://127.0.0.1:3001. */
  url: string;
  sharedSecret: string;
  /** For tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Extra time the HTTP request gets beyond the command's own timeout (killing it, sending the answer). */
const REQUEST_SLACK_MS = 30_000;

/** A RunnerClient for a runner running as its own process (createRunnerHttpHandler on the other side). */
export function createRemoteRunnerClient(options: RemoteRunnerOptions): RunnerClient {
  const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
  const endpoint = new URL("exec", base);
  const doFetch = options.fetch ?? fetch;
  return {
    async exec(request: ExecRequest) {
      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${options.sharedSecret}` },
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(request.timeoutSeconds * 1000 + REQUEST_SLACK_MS),
        });
      } catch (error) {
        throw new RunnerError("UNAVAILABLE", `the runner at ${endpoint.origin} did not answer (${messageOf(error)}); is it running (pnpm ona-runner)?`, {
          cause: error,
        });
      }
      const body: unknown = await response.json().catch(() => null);
      if (response.ok) {
        const output = ExecOutput.safeParse(body);
        if (output.success) return output.data;
        throw new RunnerError("INTERNAL", `the runner at ${endpoint.origin} answered with an unexpected body`);
      }
      const error = ErrorBody.safeParse(body);
      if (error.success && isRunnerErrorCode(error.data.error.code)) {
        throw new RunnerError(error.data.error.code, error.data.error.message);
      }
      throw new RunnerError(
        response.status === 401 ? "UNAUTHENTICATED" : "INTERNAL",
        `the runner at ${endpoint.origin} answered ${response.status}${response.status === 401 ? ": the shared secrets of the web server and the runner differ" : ""}`,
      );
    },
  };
}

function isRunnerErrorCode(code: string): code is RunnerErrorCode {
  return code in STATUS;
}
