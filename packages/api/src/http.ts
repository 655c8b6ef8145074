import type { IncomingMessage, ServerResponse } from "node:http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import type { TRPCError } from "@trpc/server";
import type { Context } from "./context";
import { onaCodeOf, serviceErrorOf } from "./errors";
import { appRouter } from "./root";

export const TRPC_PREFIX = "/api/trpc/";
export const HEALTH_PATH = "/api/health";
/** Requests larger than this are refused before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** RFC 6750 §3: the challenge that tells a client how to authenticate, and why it failed. */
function wwwAuthenticateFor(errors: TRPCError[]): string | undefined {
  for (const error of errors) {
    const challenge = serviceErrorOf(error)?.challenge;
    const code = onaCodeOf(error);
    if (challenge === "invalid_token") return 'Bearer realm="ona", error="invalid_token"';
    if (challenge === "insufficient_scope") return 'Bearer realm="ona", error="insufficient_scope"';
    if (challenge === "invalid_request") return 'Bearer realm="ona", error="invalid_request"';
    if (code === "UNAUTHENTICATED") return 'Bearer realm="ona"';
  }
  return undefined;
}

function retryAfterOf(errors: TRPCError[]): number | undefined {
  for (const error of errors) {
    const seconds = serviceErrorOf(error)?.retryAfterSeconds;
    if (seconds !== undefined) return seconds;
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

export interface ApiListenerOptions {
  createContext: (opts: { req: IncomingMessage }) => Promise<Context>;
  /** The health answer; throws when the database is not reachable. */
  health: () => Promise<Record<string, unknown>>;
  onInternalError: (path: string | undefined, error: TRPCError) => void;
}

/**
 * Serves /api/trpc/* and /api/health straight from node:http (no web framework in between:
 * the API is what CLIs and pipelines hammer). Returns false for any other path.
 */
export function createApiListener(options: ApiListenerOptions) {
  return async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === HEALTH_PATH) {
      try {
        sendJson(res, 200, await options.health());
      } catch {
        sendJson(res, 503, { status: "unavailable", message: "the database is not reachable" });
      }
      return true;
    }
    if (!url.pathname.startsWith(TRPC_PREFIX)) return false;

    if (url.searchParams.has("access_token") || url.searchParams.has("token")) {
      // A token in a URL ends up in logs and browser history; refuse it without looking at it.
      sendJson(
        res,
        400,
        {
          error: {
            message: "tokens are not accepted in the URL: send Authorization: Bearer <personal access token>",
            code: -32600,
            data: { code: "BAD_REQUEST", httpStatus: 400, onaCode: "VALIDATION" },
          },
        },
        { "www-authenticate": 'Bearer realm="ona", error="invalid_request"' },
      );
      return true;
    }

    await nodeHTTPRequestHandler({
      req,
      res,
      router: appRouter,
      path: url.pathname.slice(TRPC_PREFIX.length),
      maxBodySize: MAX_BODY_BYTES,
      createContext: options.createContext,
      onError: ({ error, path }) => {
        if (onaCodeOf(error) === "INTERNAL") options.onInternalError(path, error);
      },
      responseMeta: ({ errors }) => {
        const headers: Record<string, string> = { "cache-control": "no-store" };
        const challenge = wwwAuthenticateFor(errors);
        if (challenge) headers["www-authenticate"] = challenge;
        const retryAfter = retryAfterOf(errors);
        if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
        return { headers };
      },
    });
    return true;
  };
}
