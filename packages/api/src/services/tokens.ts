import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import {
  checkTokenFormat,
  tokenFromRandomBytes,
  tokenHint,
  type AccessLevel,
  type CreateTokenInput,
  type CreateTokenOutput,
  type ListTokensInput,
  type Page,
  type PersonalAccessToken,
  type TokenStatus,
} from "@ona/contracts";
import { hotRead, sqlBoolean, sqlDate, sqlDateOrNull, type PersonalAccessTokenRow, type User } from "@ona/db";
import type { ServiceDeps } from "../deps";
import { notFound } from "../errors";
import { afterCursor, newestFirst, pageSizeOf, toPage } from "./pagination";

const DAY_MS = 24 * 60 * 60 * 1000;
/** `lastUsed` is written at most this often per token, so a busy token does not write per request. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

// The HMAC key object is made once per secret rather than on every request that presents a token.
let hmacKey: { secret: string; key: KeyObject } | undefined;

export function hashToken(serverSecret: string, token: string): string {
  if (hmacKey?.secret !== serverSecret) hmacKey = { secret: serverSecret, key: createSecretKey(Buffer.from(serverSecret, "utf8")) };
  return createHmac("sha256", hmacKey.key).update(token).digest("hex");
}

function newTokenSecret(): string {
  for (;;) {
    const token = tokenFromRandomBytes(randomBytes(64));
    if (token) return token;
  }
}

export function statusOf(row: Pick<PersonalAccessTokenRow, "revokedAt" | "expiresAt">, now: Date): TokenStatus {
  if (row.revokedAt) return "revoked";
  if (row.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}

/** The only mapping from a token row to the wire: whitelisted fields, so the hash cannot leak. */
export function toPersonalAccessToken(row: PersonalAccessTokenRow, now: Date): PersonalAccessToken {
  return {
    id: row.id,
    userId: row.userId,
    description: row.description,
    accessLevel: row.accessLevel as AccessLevel,
    hint: row.hint,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsed: row.lastUsedAt ? { at: row.lastUsedAt.toISOString(), ip: row.lastUsedIp } : null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    status: statusOf(row, now),
  };
}

export async function createToken(
  deps: Pick<ServiceDeps, "db" | "clock" | "config">,
  userId: string,
  input: CreateTokenInput,
): Promise<CreateTokenOutput> {
  const now = deps.clock();
  const secret = newTokenSecret();
  const row = await deps.db.personalAccessToken.create({
    data: {
      userId,
      description: input.description,
      accessLevel: input.accessLevel,
      tokenHash: hashToken(deps.config.serverSecret, secret),
      hint: tokenHint(secret),
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresInDays * DAY_MS),
    },
  });
  return { token: toPersonalAccessToken(row, now), secret };
}

function statusWhere(statuses: TokenStatus[] | undefined, now: Date) {
  if (!statuses || statuses.length === 0) return {};
  const byStatus = {
    active: { revokedAt: null, expiresAt: { gt: now } },
    expired: { revokedAt: null, expiresAt: { lte: now } },
    revoked: { revokedAt: { not: null } },
  } satisfies Record<TokenStatus, object>;
  return { OR: statuses.map((status) => byStatus[status]) };
}

export async function listTokens(
  deps: Pick<ServiceDeps, "db" | "clock">,
  userId: string,
  input: ListTokensInput,
): Promise<Page<PersonalAccessToken>> {
  const now = deps.clock();
  const pageSize = pageSizeOf(input.pageSize);
  const rows = await deps.db.personalAccessToken.findMany({
    where: { AND: [{ userId }, statusWhere(input.status, now), afterCursor(input.nextToken)] },
    orderBy: newestFirst,
    take: pageSize + 1,
  });
  return toPage(rows, pageSize, (row) => toPersonalAccessToken(row, now));
}

/** Another user's token answers exactly like a token that does not exist. */
async function ownToken(deps: Pick<ServiceDeps, "db">, userId: string, id: string) {
  const row = await deps.db.personalAccessToken.findFirst({ where: { id, userId } });
  if (!row) throw notFound("token", id);
  return row;
}

export async function getToken(deps: Pick<ServiceDeps, "db" | "clock">, userId: string, id: string) {
  return toPersonalAccessToken(await ownToken(deps, userId, id), deps.clock());
}

/** Idempotent: revoking a revoked token keeps its first revocation time. */
export async function revokeToken(
  deps: Pick<ServiceDeps, "db" | "clock">,
  userId: string,
  id: string,
): Promise<PersonalAccessToken> {
  const now = deps.clock();
  await ownToken(deps, userId, id);
  await deps.db.personalAccessToken.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: now } });
  return toPersonalAccessToken(await ownToken(deps, userId, id), now);
}

export type TokenAuthFailure =
  | { reason: "malformed"; tokenId: null }
  | { reason: "unknown"; tokenId: null }
  | { reason: "revoked" | "expired" | "user-inactive"; tokenId: string; userId: string };

export type TokenAuthResult =
  | { ok: true; token: PersonalAccessTokenRow; user: User }
  | ({ ok: false } & TokenAuthFailure);

/** The token row and its user's row, as one JOIN on the unique tokenHash index (the SQL is the same on both providers). */
const TOKEN_WITH_USER_SQL = `
  SELECT t."id", t."userId", t."description", t."accessLevel", t."tokenHash", t."hint", t."createdAt", t."expiresAt",
         t."lastUsedAt", t."lastUsedIp", t."revokedAt",
         u."id" AS "u_id", u."name" AS "u_name", u."email" AS "u_email", u."emailVerified" AS "u_emailVerified",
         u."image" AS "u_image", u."role" AS "u_role", u."active" AS "u_active", u."createdAt" AS "u_createdAt",
         u."updatedAt" AS "u_updatedAt"
  FROM "personal_access_token" t JOIN "user" u ON u."id" = t."userId"
  WHERE t."tokenHash" = ?`;

/**
 * The token with this hash and its user, in one indexed read. It runs on every request with a
 * token, so it goes through @ona/db's hot path instead of Prisma's query machinery (Prisma's
 * `include` would also send a second query for the user). Columns come back as the driver
 * gives them and are typed here.
 */
async function findTokenWithUser(db: ServiceDeps["db"], tokenHash: string): Promise<{ token: PersonalAccessTokenRow; user: User } | null> {
  const row = (await hotRead(db, TOKEN_WITH_USER_SQL, [tokenHash]))[0];
  if (!row) return null;
  const text = (value: unknown) => String(value);
  const textOrNull = (value: unknown) => (value === null || value === undefined ? null : String(value));
  return {
    token: {
      id: text(row.id),
      userId: text(row.userId),
      description: text(row.description),
      accessLevel: text(row.accessLevel),
      tokenHash: text(row.tokenHash),
      hint: text(row.hint),
      createdAt: sqlDate(row.createdAt),
      expiresAt: sqlDate(row.expiresAt),
      lastUsedAt: sqlDateOrNull(row.lastUsedAt),
      lastUsedIp: textOrNull(row.lastUsedIp),
      revokedAt: sqlDateOrNull(row.revokedAt),
    },
    user: {
      id: text(row.u_id),
      name: text(row.u_name),
      email: text(row.u_email),
      emailVerified: sqlBoolean(row.u_emailVerified),
      image: textOrNull(row.u_image),
      role: text(row.u_role),
      active: sqlBoolean(row.u_active),
      createdAt: sqlDate(row.u_createdAt),
      updatedAt: sqlDate(row.u_updatedAt),
    },
  };
}

/** The format and checksum check: no database. A token that fails it cannot be one this server issued. */
export function isWellFormedToken(presented: string): boolean {
  return checkTokenFormat(presented).ok;
}

/**
 * Checks a presented token in the documented order: format and checksum (no database) →
 * hash lookup (one indexed read) → revoked / expired → user active. The caller checks access.
 */
export async function authenticateToken(
  deps: Pick<ServiceDeps, "db" | "clock" | "config">,
  presented: string,
): Promise<TokenAuthResult> {
  if (!isWellFormedToken(presented)) return { ok: false, reason: "malformed", tokenId: null };
  const hash = hashToken(deps.config.serverSecret, presented);
  const row = await findTokenWithUser(deps.db, hash);
  if (!row || !timingSafeEqual(Buffer.from(row.token.tokenHash, "hex"), Buffer.from(hash, "hex"))) {
    return { ok: false, reason: "unknown", tokenId: null };
  }
  const { user, token } = row;
  const now = deps.clock();
  if (token.revokedAt) return { ok: false, reason: "revoked", tokenId: token.id, userId: user.id };
  if (token.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "expired", tokenId: token.id, userId: user.id };
  if (!user.active) return { ok: false, reason: "user-inactive", tokenId: token.id, userId: user.id };
  return { ok: true, token, user };
}

/** Token id → when this process last sent its last-used stamp (ms, by the services' clock). */
const stampsInFlight = new Map<string, number>();
const MAX_REMEMBERED_STAMPS = 10_000;

/**
 * Records when and from where a token was last used, at most once a minute per token. The
 * condition in the update makes concurrent requests write once between them.
 */
export async function recordTokenUse(
  deps: Pick<ServiceDeps, "db" | "clock">,
  token: Pick<PersonalAccessTokenRow, "id" | "lastUsedAt">,
  ip: string | null,
): Promise<void> {
  const now = deps.clock();
  const threshold = new Date(now.getTime() - LAST_USED_WRITE_INTERVAL_MS);
  if (token.lastUsedAt && token.lastUsedAt > threshold) return;
  // Requests that read the row before the first stamp committed would each send an UPDATE
  // (matching no row, but still a write statement): one per process and interval is enough.
  const stampedAt = stampsInFlight.get(token.id);
  if (stampedAt !== undefined && stampedAt > threshold.getTime()) return;
  if (stampsInFlight.size >= MAX_REMEMBERED_STAMPS) stampsInFlight.clear();
  stampsInFlight.set(token.id, now.getTime());
  await deps.db.personalAccessToken.updateMany({
    where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: threshold } }] },
    data: { lastUsedAt: now, lastUsedIp: ip },
  });
}

export function describeTokenFailure(failure: TokenAuthFailure): string {
  switch (failure.reason) {
    case "malformed":
    case "unknown":
      return "the access token is not valid: check that it was copied whole, or create a new one";
    case "revoked":
      return "the access token was revoked: create a new one in Settings → Personal access tokens";
    case "expired":
      return "the access token has expired: create a new one in Settings → Personal access tokens";
    case "user-inactive":
      return "the account this token belongs to is deactivated";
  }
}
