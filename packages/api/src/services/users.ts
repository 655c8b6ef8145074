import { APIError } from "better-auth/api";
import type { User, UserRole } from "@ona/contracts";
import type { Auth } from "../auth";
import type { ServiceDeps } from "../deps";
import { SYSTEM_ACTOR, NO_REQUEST } from "../deps";
import { ServiceError } from "../errors";
import { writeAudit } from "./audit";

function toUser(row: { id: string; email: string; name: string; role: string }): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role === "admin" ? "admin" : "member" };
}

/** Operators' path to an account (the admin command); passwords are hashed by better-auth. */
export async function createUserWithPassword(
  deps: Pick<ServiceDeps, "db" | "clock">,
  auth: Auth,
  input: { email: string; name: string; password: string; role?: UserRole },
): Promise<User> {
  try {
    const created = await auth.api.signUpEmail({ body: { email: input.email, name: input.name, password: input.password } });
    const row = input.role
      ? await deps.db.user.update({ where: { id: created.user.id }, data: { role: input.role } })
      : await deps.db.user.findUniqueOrThrow({ where: { id: created.user.id } });
    await writeAudit(deps, {
      actor: SYSTEM_ACTOR,
      action: "user.create",
      subjectType: "user",
      subjectId: row.id,
      outcome: "success",
      request: NO_REQUEST,
    });
    return toUser(row);
  } catch (error) {
    if (error instanceof APIError) throw new ServiceError("VALIDATION", error.message);
    throw error;
  }
}

export async function listUsers(deps: Pick<ServiceDeps, "db">): Promise<User[]> {
  const rows = await deps.db.user.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map(toUser);
}

export async function findUserByEmail(deps: Pick<ServiceDeps, "db">, email: string) {
  const row = await deps.db.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  if (!row) throw new ServiceError("NOT_FOUND", `no user with email ${email}: create one with ona-admin user create`);
  return row;
}
