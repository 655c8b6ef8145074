import { request, type Agent } from "node:http";
import { z } from "zod";

/** Credentials a request carries: a bearer token or a session cookie. */
export type Credentials = { token: string } | { cookie: string };

export function authHeaders(credentials: Credentials): Record<string, string> {
  return "token" in credentials ? { authorization: `Bearer ${credentials.token}` } : { cookie: credentials.cookie };
}

export const trpcQueryPath = (procedure: string, input: unknown): string =>
  `/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;

const TrpcSuccess = z.object({ result: z.object({ data: z.unknown() }) });
const TrpcFailure = z.object({ error: z.object({ message: z.string() }) });

async function trpcResult(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${what}: HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
  }
  const ok = TrpcSuccess.safeParse(body);
  if (response.ok && ok.success) return ok.data.result.data;
  const failure = TrpcFailure.safeParse(body);
  throw new Error(`${what}: HTTP ${response.status}: ${failure.success ? failure.data.error.message : text.slice(0, 300)}`);
}

export async function trpcQuery<T>(
  baseUrl: string,
  procedure: string,
  input: unknown,
  credentials: Credentials,
  schema: z.ZodType<T>,
): Promise<T> {
  const response = await fetch(`${baseUrl}${trpcQueryPath(procedure, input)}`, { headers: authHeaders(credentials) });
  return schema.parse(await trpcResult(response, procedure));
}

export async function trpcMutation<T>(
  baseUrl: string,
  procedure: string,
  input: unknown,
  credentials: Credentials,
  schema: z.ZodType<T>,
): Promise<T> {
  const response = await fetch(`${baseUrl}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl, ...authHeaders(credentials) },
    body: JSON.stringify(input),
  });
  return schema.parse(await trpcResult(response, procedure));
}

export interface Account {
  email: string;
  userId: string;
  cookie: string;
}

const SignUpResponse = z.object({ user: z.object({ id: z.string() }) });

/** Signs up with email and password (better-auth) and returns the session cookie. */
export async function signUp(baseUrl: string, email: string, name = "Bench User"): Promise<Account> {
  const response = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ email, password: "bench-password-1234", name }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`sign-up failed: HTTP ${response.status}: ${text.slice(0, 300)}`);
  const body = SignUpResponse.parse(JSON.parse(text));
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(";")[0] ?? "")
    .filter(Boolean)
    .join("; ");
  if (!cookie) throw new Error("sign-up returned no session cookie");
  return { email, userId: body.user.id, cookie };
}

const CreatedToken = z.object({ secret: z.string(), token: z.object({ id: z.string() }) });

/** A personal access token made the way a user makes one: token.create with a signed-in session. */
export async function createToken(
  baseUrl: string,
  account: Account,
  accessLevel: "read-only" | "read-write",
  description = "bench",
): Promise<{ secret: string; id: string }> {
  const created = await trpcMutation(
    baseUrl,
    "token.create",
    { description, expiresInDays: 30, accessLevel },
    { cookie: account.cookie },
    CreatedToken,
  );
  return { secret: created.secret, id: created.token.id };
}

/**
 * One GET, by default on a new connection (no keep-alive) as a freshly started CLI makes it:
 * the time from opening the connection (or sending) to the last byte of the body, in ms.
 */
export function timedGet(
  url: string,
  headers: Record<string, string>,
  agent: Agent | false = false,
): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const start = process.hrtime.bigint();
    const req = request(url, { headers, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolveGet({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - start) / 1e6, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
