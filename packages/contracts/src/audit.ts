import { z } from "zod";
import { Id, PageRequest, Timestamp, pageOf } from "./common";
import { Principal } from "./identity";

export const AuditOutcome = z.enum(["success", "denied", "failed"]);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditSubjectType = z.enum(["token", "environment", "user", "auth"]);
export type AuditSubjectType = z.infer<typeof AuditSubjectType>;

/** `resource.verb`, lowercase: `environment.create`, `token.revoke`, `auth.token` … */
export const AuditAction = z
  .string()
  .trim()
  .regex(/^[a-z][a-zA-Z]*(\.[a-z][a-zA-Z]*)+$/, "an action looks like environment.create");

export const AuditLogEntry = z.object({
  id: Id,
  createdAt: Timestamp,
  actorId: Id.nullable(),
  actorPrincipal: Principal,
  tokenId: Id.nullable(),
  action: z.string(),
  subjectType: AuditSubjectType,
  subjectId: z.string().nullable(),
  outcome: AuditOutcome,
  /** Why a denied or failed attempt did not go through; never contains a secret. */
  reason: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type AuditLogEntry = z.infer<typeof AuditLogEntry>;

export const ListAuditLogInput = PageRequest.extend({
  tokenId: Id.optional(),
  actorId: Id.optional(),
  subjectId: z.string().max(64).optional(),
  action: AuditAction.optional(),
  outcome: AuditOutcome.optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
});
export type ListAuditLogInput = z.infer<typeof ListAuditLogInput>;

export const ListAuditLogOutput = pageOf(AuditLogEntry);
export type ListAuditLogOutput = z.infer<typeof ListAuditLogOutput>;
