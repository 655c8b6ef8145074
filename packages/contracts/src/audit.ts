import { z } from "zod";
import { Id, PageRequest, Timestamp, TimestampInput, hasNoNulBytes, pageOf } from "./common";
import { Principal } from "./identity";

export const AuditOutcome = z.enum(["success", "denied", "failed"]);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditSubjectType = z.enum(["token", "environment", "user", "auth"]);
export type AuditSubjectType = z.infer<typeof AuditSubjectType>;

/** Every action the server writes to the audit log, as `resource.verb`. */
export const AuditAction = z.enum(
  [
    "environment.create",
    "environment.start",
    "environment.stop",
    "environment.delete",
    "environment.exec",
    "token.create",
    "token.revoke",
    "auth.token",
    "user.create",
  ],
  { error: "unknown action: use one like environment.create or token.revoke" },
);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditLogEntry = z.object({
  id: Id,
  createdAt: Timestamp,
  actorId: Id.nullable(),
  actorPrincipal: Principal,
  tokenId: Id.nullable(),
  action: AuditAction,
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
  subjectId: z.string().max(64).refine(hasNoNulBytes, "subjectId must not contain NUL bytes").optional(),
  action: AuditAction.optional(),
  outcome: AuditOutcome.optional(),
  from: TimestampInput.optional(),
  to: TimestampInput.optional(),
});
export type ListAuditLogInput = z.infer<typeof ListAuditLogInput>;

export const ListAuditLogOutput = pageOf(AuditLogEntry);
export type ListAuditLogOutput = z.infer<typeof ListAuditLogOutput>;
