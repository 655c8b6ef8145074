import { parseIsolationReport } from "@ona/runner";
import type { CreateTokenInput, CreateTokenOutput, PersonalAccessToken } from "@ona/contracts";
import { NO_REQUEST, SYSTEM_ACTOR, type ServiceDeps } from "../deps";
import { notFound } from "../errors";
import { writeAudit } from "./audit";
import { createToken, revokeToken } from "./tokens";
import { findUserByEmail } from "./users";

/**
 * What operators do from the server's command line (`pnpm ona-admin`), with no session:
 * the audit log names the system as the actor.
 */
export async function adminCreateToken(
  deps: Pick<ServiceDeps, "db" | "clock" | "config">,
  email: string,
  input: CreateTokenInput,
): Promise<CreateTokenOutput> {
  const user = await findUserByEmail(deps, email);
  const created = await createToken(deps, user.id, input);
  await writeAudit(deps, {
    actor: SYSTEM_ACTOR,
    action: "token.create",
    subjectType: "token",
    subjectId: created.token.id,
    outcome: "success",
    reason: `created for ${user.email} by ona-admin`,
    request: NO_REQUEST,
  });
  return created;
}

export async function adminRevokeToken(
  deps: Pick<ServiceDeps, "db" | "clock">,
  tokenId: string,
): Promise<PersonalAccessToken> {
  const row = await deps.db.personalAccessToken.findUnique({ where: { id: tokenId }, select: { userId: true } });
  if (!row) throw notFound("token", tokenId);
  const revoked = await revokeToken(deps, row.userId, tokenId);
  await writeAudit(deps, {
    actor: SYSTEM_ACTOR,
    action: "token.revoke",
    subjectType: "token",
    subjectId: tokenId,
    outcome: "success",
    reason: "revoked by ona-admin",
    request: NO_REQUEST,
  });
  return revoked;
}

export interface RunnerStatus {
  id: string;
  name: string;
  kind: string;
  lastHeartbeatAt: Date | null;
  isolation: ReturnType<typeof parseIsolationReport>;
}

/** Every registered runner with what it reports about isolating environments (`ona-admin runner list`). */
export async function listRunners(deps: Pick<ServiceDeps, "db">): Promise<RunnerStatus[]> {
  const rows = await deps.db.runner.findMany({ orderBy: { id: "asc" } });
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    kind: row.kind,
    lastHeartbeatAt: row.lastHeartbeatAt,
    isolation: parseIsolationReport(row.isolation),
  }));
}
