import type { AccessLevel, CreateTokenOutput, ExpiresInDays } from "@ona/contracts";

/** Credentials for a call: a bearer token, a session cookie, or a raw Authorization header. */
export type Credentials = { token: string } | { cookie: string } | { authorization: string } | null;

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body. */
  body: unknown;
  text: string;
  /** `result.data` on success. */
  data: unknown;
  /** `error` on failure. */
  error: { message: string; data: { onaCode: string; httpStatus: number; issues?: { path: string; message: string }[] } } | undefined;
}

function headersFor(base: string, credentials: Credentials, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (credentials && "token" in credentials) headers.authorization = `Bearer ${credentials.token}`;
  if (credentials && "authorization" in credentials) headers.authorization = credentials.authorization;
  if (credentials && "cookie" in credentials) {
    headers.cookie = credentials.cookie;
    headers.origin ??= base;
  }
  return headers;
}

async function toResult(response: Response): Promise<CallResult> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const record = (body ?? {}) as { result?: { data?: unknown }; error?: CallResult["error"] };
  return { status: response.status, headers: response.headers, body, text, data: record.result?.data, error: record.error };
}

/** A tRPC query over plain HTTP, the way curl or any language would call it. */
export async function query(
  base: string,
  path: string,
  input: unknown,
  credentials: Credentials,
  extraHeaders: Record<string, string> = {},
): Promise<CallResult> {
  const search = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await fetch(`${base}/api/trpc/${path}${search}`, { headers: headersFor(base, credentials, extraHeaders) });
  return toResult(response);
}

/** A tRPC mutation over plain HTTP. */
export async function mutate(
  base: string,
  path: string,
  input: unknown,
  credentials: Credentials,
  extraHeaders: Record<string, string> = {},
): Promise<CallResult> {
  const response = await fetch(`${base}/api/trpc/${path}`, {
    method: "POST",
    headers: headersFor(base, credentials, { "content-type": "application/json", ...extraHeaders }),
    body: JSON.stringify(input ?? null),
  });
  return toResult(response);
}

export interface SignedUpUser {
  email: string;
  password: string;
  cookie: string;
  userId: string;
}

let userCounter = 0;

/** Signs up through better-auth's real endpoint and returns the session cookie. */
export async function signUp(base: string, overrides: { email?: string; name?: string; password?: string } = {}): Promise<SignedUpUser> {
  const email = overrides.email ?? `user${++userCounter}-${process.pid}@example.com`;
  const password = overrides.password ?? "correct horse battery staple";
  const response = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password, name: overrides.name ?? email.split("@")[0] }),
  });
  if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { user: { id: string } };
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  return { email, password, cookie, userId: body.user.id };
}

export async function createToken(
  base: string,
  user: { cookie: string },
  options: { accessLevel?: AccessLevel; description?: string; expiresInDays?: ExpiresInDays } = {},
): Promise<CreateTokenOutput> {
  const result = await mutate(
    base,
    "token.create",
    {
      description: options.description ?? "test token",
      expiresInDays: options.expiresInDays ?? 30,
      accessLevel: options.accessLevel ?? "read-write",
    },
    { cookie: user.cookie },
  );
  if (result.status !== 200) throw new Error(`token.create failed: ${result.status} ${result.text}`);
  return result.data as CreateTokenOutput;
}
