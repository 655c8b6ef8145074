import { z } from "zod";
import { Id, PageRequest, Timestamp, hasNoNulBytes, pageOf } from "./common";

export const AccessLevel = z.enum(["read-only", "read-write"]);
export type AccessLevel = z.infer<typeof AccessLevel>;

export const TokenStatus = z.enum(["active", "expired", "revoked"]);
export type TokenStatus = z.infer<typeof TokenStatus>;

export const TOKEN_EXPIRY_DAYS = [30, 60, 90] as const;
export const ExpiresInDays = z.union([z.literal(30), z.literal(60), z.literal(90)], {
  error: "expiration must be 30, 60 or 90 days",
});
export type ExpiresInDays = z.infer<typeof ExpiresInDays>;

export const TokenDescription = z
  .string({ error: "a description is required" })
  .trim()
  .min(1, "a description is required")
  .max(100, "the description is at most 100 characters")
  .refine(hasNoNulBytes, "the description must not contain NUL bytes");

/** A token as every read returns it: never the secret, never its hash. */
export const PersonalAccessToken = z.object({
  id: Id,
  userId: Id,
  description: z.string(),
  accessLevel: AccessLevel,
  hint: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  lastUsed: z.object({ at: Timestamp, ip: z.string().nullable() }).nullable(),
  revokedAt: Timestamp.nullable(),
  status: TokenStatus,
});
export type PersonalAccessToken = z.infer<typeof PersonalAccessToken>;

export const CreateTokenInput = z.object({
  description: TokenDescription,
  expiresInDays: ExpiresInDays,
  accessLevel: AccessLevel,
});
export type CreateTokenInput = z.infer<typeof CreateTokenInput>;

/** The only shape that ever carries the secret: the answer to create. */
export const CreateTokenOutput = z.object({ token: PersonalAccessToken, secret: z.string() });
export type CreateTokenOutput = z.infer<typeof CreateTokenOutput>;

export const ListTokensInput = PageRequest.extend({
  status: z.array(TokenStatus).optional(),
});
export type ListTokensInput = z.infer<typeof ListTokensInput>;

export const ListTokensOutput = pageOf(PersonalAccessToken);
export type ListTokensOutput = z.infer<typeof ListTokensOutput>;

export const TokenIdInput = z.object({ id: Id });
export type TokenIdInput = z.infer<typeof TokenIdInput>;
