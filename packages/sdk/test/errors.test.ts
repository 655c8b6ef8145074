import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ErrorCode, httpStatusOf } from "@ona/contracts";
import {
  AuthenticationError,
  ConflictError,
  createClient,
  errorClassOf,
  InternalError,
  NotFoundError,
  OnaError,
  PermissionError,
  PreconditionError,
  RateLimitedError,
  UnavailableError,
  ValidationError,
} from "../src";

const HOST = "http://ona.test:3000";

/** A fetch that answers every request with one canned tRPC error body. */
function answering(status: number, body: unknown, headers: Record<string, string> = {}): typeof fetch {
  return () =>
    Promise.resolve(
      new Response(typeof body === "string" ? body : JSON.stringify(body), {
        status,
        headers: { "content-type": typeof body === "string" ? "text/html" : "application/json", ...headers },
      }),
    );
}

function errorBody(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  return { error: { message, code: -32000, data: { code: "X", httpStatus: httpStatusOf[code], onaCode: code, path: "identity.whoami", ...extra } } };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("error mapping", () => {
  const expected = {
    UNAUTHENTICATED: AuthenticationError,
    PERMISSION_DENIED: PermissionError,
    NOT_FOUND: NotFoundError,
    VALIDATION: ValidationError,
    CONFLICT: ConflictError,
    FAILED_PRECONDITION: PreconditionError,
    RATE_LIMITED: RateLimitedError,
    UNAVAILABLE: UnavailableError,
    INTERNAL: InternalError,
  } satisfies Record<ErrorCode, unknown>;

  it("maps every error code to its own class", () => {
    expect(errorClassOf).toEqual(expected);
    expect(new Set(Object.values(errorClassOf)).size).toBe(ErrorCode.options.length);
  });

  it.each(ErrorCode.options)("a %s answer becomes its class, with the server's message, status and details", async (code) => {
    const client = createClient({ host: HOST, token: "t", fetch: answering(httpStatusOf[code], errorBody(code, `server says ${code}`, { issues: [{ path: "classId", message: "valid classes are a, b" }], retryAfterSeconds: 7 })) });
    const error = await failureOf(client.identity.whoami());
    expect(error).toBeInstanceOf(expected[code]);
    expect(error).toBeInstanceOf(OnaError);
    const onaError = error as OnaError;
    expect(onaError.code).toBe(code);
    expect(onaError.message).toBe(`server says ${code}`);
    expect(onaError.httpStatus).toBe(httpStatusOf[code]);
    expect(onaError.issues).toEqual([{ path: "classId", message: "valid classes are a, b" }]);
    expect(onaError.retryAfterSeconds).toBe(7);
    expect(onaError.path).toBe("identity.whoami");
  });

  it("a server that cannot be reached is unavailable, with a message that names the host", async () => {
    const refused: typeof fetch = () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }));
    const error = await failureOf(createClient({ host: HOST, fetch: refused }).environments.list());
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe(`could not reach the Ona server at ${HOST}: is it running?`);
  });

  it("a real closed port is unavailable too", async () => {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const error = await failureOf(createClient({ host }).identity.whoami());
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe(`could not reach the Ona server at ${host}: is it running?`);
  });

  it("an answer that is not the Ona API says so, mapped by its HTTP status", async () => {
    const error = await failureOf(createClient({ host: HOST, fetch: answering(404, "<html>nope</html>") }).identity.whoami());
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toMatch(/answered HTTP 404 with something that is not the Ona API/);
    const bad = await failureOf(createClient({ host: HOST, fetch: answering(502, "<html>bad gateway</html>") }).identity.whoami());
    expect(bad).toBeInstanceOf(UnavailableError);
  });

  it("an answer that does not match the contracts is an internal error naming the field", async () => {
    const client = createClient({ host: HOST, fetch: answering(200, { result: { data: { user: { id: "u" } } } }) });
    const error = await failureOf(client.identity.whoami());
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(/identity\.whoami does not match this client \(user\.email/);
  });
});

describe("createClient", () => {
  it("sends the token as a bearer token and the user agent, and reads host and token from the environment", async () => {
    const seen: { url: string; headers: Headers }[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push({ url: String(input), headers: new Headers(init?.headers) });
      return Promise.resolve(new Response(JSON.stringify({ result: { data: { items: [], nextToken: null } } }), { headers: { "content-type": "application/json" } }));
    };
    const previous = { host: process.env.ONA_HOST, token: process.env.ONA_TOKEN };
    process.env.ONA_HOST = "https://ona.example.com/";
    process.env.ONA_TOKEN = "from-env";
    try {
      await createClient({ fetch: recording, userAgent: "test-agent/1" }).environmentClasses.list();
      await createClient({ fetch: recording, host: "localhost:4000", token: "explicit" }).environmentClasses.list();
    } finally {
      if (previous.host === undefined) delete process.env.ONA_HOST;
      else process.env.ONA_HOST = previous.host;
      if (previous.token === undefined) delete process.env.ONA_TOKEN;
      else process.env.ONA_TOKEN = previous.token;
    }
    expect(seen[0]?.url).toBe("https://ona.example.com/api/trpc/environmentClass.list");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer from-env");
    expect(seen[0]?.headers.get("user-agent")).toBe("test-agent/1");
    expect(seen[1]?.url).toBe("http://localhost:4000/api/trpc/environmentClass.list");
    expect(seen[1]?.headers.get("authorization")).toBe("Bearer explicit");
  });

  it("refuses a host that is not an http(s) URL", () => {
    expect(() => createClient({ host: "ftp://x" })).toThrow(ValidationError);
    expect(() => createClient({ host: "http://user:pw@x" })).toThrow(/credentials/);
  });

  it("pages through lists with listAll", async () => {
    const pages: Record<string, { items: unknown[]; nextToken: string | null }> = {
      "": { items: [token("a"), token("b")], nextToken: "p2" },
      p2: { items: [token("c")], nextToken: null },
    };
    const paging: typeof fetch = (input) => {
      const raw = new URL(String(input)).searchParams.get("input") ?? "{}";
      const { nextToken } = JSON.parse(raw) as { nextToken?: string };
      return Promise.resolve(new Response(JSON.stringify({ result: { data: pages[nextToken ?? ""] } }), { headers: { "content-type": "application/json" } }));
    };
    const ids: string[] = [];
    for await (const item of createClient({ host: HOST, fetch: paging }).tokens.listAll({ pageSize: 2 })) ids.push(item.id);
    expect(ids).toEqual(["a", "b", "c"]);
  });
});

function token(id: string) {
  const at = "2030-01-01T00:00:00.000Z";
  return { id, userId: "u", description: "d", accessLevel: "read-only", hint: "ona_pat_abcd…wxyz", createdAt: at, expiresAt: at, lastUsed: null, revokedAt: null, status: "active" };
}

/** A loopback port nothing listens on: bound by this process, then closed again (not a port assumed unused). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
