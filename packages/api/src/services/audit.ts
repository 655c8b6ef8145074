import type { AuditAction, AuditLogEntry, AuditOutcome, AuditSubjectType, ListAuditLogInput, Page, Principal } from "@ona/contracts";
import type { AuditEntryRow } from "@ona/db";
import type { Actor, RequestInfo, ServiceDeps } from "../deps";
import { ServiceError } from "../errors";
import { afterCursor, newestFirst, pageSizeOf, toPage } from "./pagination";
import type { Viewer } from "./viewer";

export interface AuditEvent {
  actor: Actor;
  action: AuditAction;
  subjectType: AuditSubjectType;
  subjectId: string | null;
  outcome: AuditOutcome;
  /** Why it was denied or failed: words for people, never a secret or a hash. */
  reason?: string | null;
  request: RequestInfo;
}

const MAX_USER_AGENT = 512;

/** Appends one entry. The audit table is insert-only: nothing in the code updates or deletes it. */
export async function writeAudit(deps: Pick<ServiceDeps, "db" | "clock">, event: AuditEvent): Promise<void> {
  await deps.db.auditEntry.create({
    data: {
      createdAt: deps.clock(),
      actorId: event.actor.userId,
      actorPrincipal: event.actor.principal,
      tokenId: event.actor.tokenId,
      action: event.action,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
      outcome: event.outcome,
      reason: event.reason ?? null,
      ip: event.request.ip,
      userAgent: event.request.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
    },
  });
}

export function toAuditLogEntry(row: AuditEntryRow): AuditLogEntry {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    actorId: row.actorId,
    actorPrincipal: row.actorPrincipal as Principal,
    tokenId: row.tokenId,
    action: row.action as AuditAction,
    subjectType: row.subjectType as AuditSubjectType,
    subjectId: row.subjectId,
    outcome: row.outcome as AuditOutcome,
    reason: row.reason,
    ip: row.ip,
    userAgent: row.userAgent,
  };
}

/** Members see entries they are the actor of (asking for another actor's is refused); admins see everyone's and may filter by actor. */
export async function listAuditLog(
  deps: Pick<ServiceDeps, "db">,
  viewer: Viewer,
  input: ListAuditLogInput,
): Promise<Page<AuditLogEntry>> {
  if (viewer.role !== "admin" && input.actorId !== undefined && input.actorId !== viewer.userId) {
    throw new ServiceError("PERMISSION_DENIED", "only administrators can read other users' audit entries: leave actorId out to read your own");
  }
  const pageSize = pageSizeOf(input.pageSize);
  const actorId = viewer.role === "admin" ? input.actorId : viewer.userId;
  const rows = await deps.db.auditEntry.findMany({
    where: {
      AND: [
        actorId === undefined ? {} : { actorId },
        input.tokenId === undefined ? {} : { tokenId: input.tokenId },
        input.subjectId === undefined ? {} : { subjectId: input.subjectId },
        input.action === undefined ? {} : { action: input.action },
        input.outcome === undefined ? {} : { outcome: input.outcome },
        input.from === undefined ? {} : { createdAt: { gte: new Date(input.from) } },
        input.to === undefined ? {} : { createdAt: { lt: new Date(input.to) } },
        afterCursor(input.nextToken),
      ],
    },
    orderBy: newestFirst,
    take: pageSize + 1,
  });
  return toPage(rows, pageSize, toAuditLogEntry);
}
