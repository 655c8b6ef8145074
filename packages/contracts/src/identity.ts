import { z } from "zod";
import { Id, Timestamp } from "./common";
import { AccessLevel } from "./token";

export const UserRole = z.enum(["admin", "member"]);
export type UserRole = z.infer<typeof UserRole>;

export const User = z.object({
  id: Id,
  email: z.email(),
  name: z.string(),
  role: UserRole,
});
export type User = z.infer<typeof User>;

/** Who a principal is in audit entries and environment metadata. */
export const Principal = z.enum(["user", "system", "anonymous"]);
export type Principal = z.infer<typeof Principal>;

export const AuthMethod = z.enum(["session", "token"]);
export type AuthMethod = z.infer<typeof AuthMethod>;

export const WhoAmI = z.object({
  user: User,
  authMethod: AuthMethod,
  /** Present when the call was made with a personal access token. */
  token: z
    .object({ id: Id, description: z.string(), accessLevel: AccessLevel, expiresAt: Timestamp })
    .optional(),
});
export type WhoAmI = z.infer<typeof WhoAmI>;
