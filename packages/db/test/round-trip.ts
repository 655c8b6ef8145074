// One row of every model with every field set, written through the generated Prisma client and
// read back: proof that the migrated tables match what the client expects, column by column.
import { expect } from "vitest";
import type { Db } from "../src/client";
import {
  Prisma,
  type Account,
  type AuditEntry,
  type Environment,
  type EnvironmentClass,
  type EnvironmentLog,
  type PersonalAccessToken,
  type Runner,
  type Session,
  type User,
  type Verification,
} from "../src/generated/sqlite/client";

// Millisecond precision: what both providers store (PostgreSQL's TIMESTAMP(3)).
const at = (iso: string): Date => new Date(iso);

// Every field is set, to a value other than its default, so a column that ignored the value or
// fell back to its default would show. The types make a model's new field a compile error here.
const user: User = {
  id: "user-1",
  name: "Ada Lovelace — ünïcødé ✓",
  email: "ada@example.com",
  emailVerified: true,
  image: "https://example.com/ada.png",
  role: "admin",
  active: false,
  createdAt: at("2024-01-02T03:04:05.678Z"),
  updatedAt: at("2024-01-03T03:04:05.678Z"),
};
const session: Session = {
  id: "session-1",
  expiresAt: at("2030-01-01T00:00:00.001Z"),
  token: "session-token",
  createdAt: at("2024-02-01T00:00:00.002Z"),
  updatedAt: at("2024-02-02T00:00:00.003Z"),
  ipAddress: "2001:db8::1",
  userAgent: "vitest",
  userId: user.id,
};
const account: Account = {
  id: "account-1",
  accountId: "ada",
  providerId: "credential",
  userId: user.id,
  accessToken: "access",
  refreshToken: "refresh",
  idToken: "id-token",
  accessTokenExpiresAt: at("2030-01-01T00:00:00.004Z"),
  refreshTokenExpiresAt: at("2030-01-02T00:00:00.005Z"),
  scope: "openid",
  password: "scrypt$hash",
  createdAt: at("2024-03-01T00:00:00.006Z"),
  updatedAt: at("2024-03-02T00:00:00.007Z"),
};
const verification: Verification = {
  id: "verification-1",
  identifier: "ada@example.com",
  value: "123456",
  expiresAt: at("2030-01-01T00:00:00.008Z"),
  createdAt: at("2024-04-01T00:00:00.009Z"),
  updatedAt: at("2024-04-02T00:00:00.010Z"),
};
const token: PersonalAccessToken = {
  id: "token-1",
  userId: user.id,
  description: "CI pipeline",
  accessLevel: "read-only",
  tokenHash: "a".repeat(64),
  hint: "ona_pat_abcd…wxyz",
  createdAt: at("2024-05-01T00:00:00.011Z"),
  expiresAt: at("2024-06-01T00:00:00.012Z"),
  lastUsedAt: at("2024-05-02T00:00:00.013Z"),
  lastUsedIp: "192.0.2.1",
  revokedAt: at("2024-05-03T00:00:00.014Z"),
};
const runner: Runner = {
  id: "runner-1",
  name: "local",
  kind: "local",
  isolation: JSON.stringify({ mode: "sandbox", properties: ["users: one host uid per environment"], warnings: [], problem: null }),
  lastHeartbeatAt: at("2024-06-01T00:00:00.015Z"),
  createdAt: at("2024-06-01T00:00:00.016Z"),
};
const environmentClass: EnvironmentClass = {
  id: "class-1",
  runnerId: runner.id,
  displayName: "Small",
  description: "2 cores, 4 GiB",
  configuration: JSON.stringify([{ key: "cpu", value: "2" }]),
  enabled: false,
  position: 3,
};
const environment: Environment = {
  id: "environment-1",
  userId: user.id,
  name: "my env",
  contextUrl: "https://github.com/example/repo",
  classId: environmentClass.id,
  runnerId: runner.id,
  desiredPhase: "ENVIRONMENT_PHASE_RUNNING",
  specVersion: 4,
  failedSpecVersion: 3,
  phase: "ENVIRONMENT_PHASE_STARTING",
  statusVersion: 5,
  failureMessage: JSON.stringify(["boom"]),
  warningMessage: JSON.stringify(["careful"]),
  createdAt: at("2024-07-01T00:00:00.017Z"),
  updatedAt: at("2024-07-02T00:00:00.018Z"),
  lastStartedAt: at("2024-07-03T00:00:00.019Z"),
  leaseOwner: "runner-process-1",
  leaseExpiresAt: at("2024-07-04T00:00:00.020Z"),
};
const log: EnvironmentLog = {
  id: 42,
  environmentId: environment.id,
  at: at("2024-07-05T00:00:00.021Z"),
  stream: "stderr",
  text: "line one\nline two\t✓",
};
const audit: AuditEntry = {
  id: "audit-1",
  createdAt: at("2024-08-01T00:00:00.022Z"),
  actorId: user.id,
  actorPrincipal: "user",
  tokenId: token.id,
  action: "token.revoke",
  subjectType: "token",
  subjectId: token.id,
  outcome: "denied",
  reason: "read-only token",
  ip: "192.0.2.2",
  userAgent: "curl/8",
};

// Prisma's own list of each model's columns: a field added to the model but not above fails here
// at run time too (vitest does not type-check).
const rows: Record<Prisma.ModelName, { fields: Record<string, string>; row: object }> = {
  User: { fields: Prisma.UserScalarFieldEnum, row: user },
  Session: { fields: Prisma.SessionScalarFieldEnum, row: session },
  Account: { fields: Prisma.AccountScalarFieldEnum, row: account },
  Verification: { fields: Prisma.VerificationScalarFieldEnum, row: verification },
  PersonalAccessToken: { fields: Prisma.PersonalAccessTokenScalarFieldEnum, row: token },
  Runner: { fields: Prisma.RunnerScalarFieldEnum, row: runner },
  EnvironmentClass: { fields: Prisma.EnvironmentClassScalarFieldEnum, row: environmentClass },
  Environment: { fields: Prisma.EnvironmentScalarFieldEnum, row: environment },
  EnvironmentLog: { fields: Prisma.EnvironmentLogScalarFieldEnum, row: log },
  AuditEntry: { fields: Prisma.AuditEntryScalarFieldEnum, row: audit },
};

export function expectEveryFieldSet(): void {
  for (const [model, { fields, row }] of Object.entries(rows)) {
    const values: Record<string, unknown> = { ...row };
    const unset = Object.values(fields).filter((field) => values[field] === undefined || values[field] === null);
    expect(unset, `${model} fields missing from test/round-trip.ts`).toEqual([]);
  }
}

export async function expectEveryModelRoundTrips(db: Db): Promise<void> {
  await db.user.create({ data: user });
  await db.session.create({ data: session });
  await db.account.create({ data: account });
  await db.verification.create({ data: verification });
  await db.personalAccessToken.create({ data: token });
  await db.runner.create({ data: runner });
  await db.environmentClass.create({ data: environmentClass });
  await db.environment.create({ data: environment });
  await db.environmentLog.create({ data: log });
  await db.auditEntry.create({ data: audit });

  expect(await db.user.findUniqueOrThrow({ where: { id: user.id } })).toEqual(user);
  expect(await db.session.findUniqueOrThrow({ where: { id: session.id } })).toEqual(session);
  expect(await db.account.findUniqueOrThrow({ where: { id: account.id } })).toEqual(account);
  expect(await db.verification.findUniqueOrThrow({ where: { id: verification.id } })).toEqual(verification);
  expect(await db.personalAccessToken.findUniqueOrThrow({ where: { id: token.id } })).toEqual(token);
  expect(await db.runner.findUniqueOrThrow({ where: { id: runner.id } })).toEqual(runner);
  expect(await db.environmentClass.findUniqueOrThrow({ where: { id: environmentClass.id } })).toEqual(environmentClass);
  expect(await db.environment.findUniqueOrThrow({ where: { id: environment.id } })).toEqual(environment);
  expect(await db.environmentLog.findUniqueOrThrow({ where: { id: log.id } })).toEqual(log);
  expect(await db.auditEntry.findUniqueOrThrow({ where: { id: audit.id } })).toEqual(audit);

  // Unique columns are unique.
  await expect(db.user.create({ data: { ...user, id: "user-2" } })).rejects.toThrow();
  await expect(db.personalAccessToken.create({ data: { ...token, id: "token-2" } })).rejects.toThrow();
  // An environment's class cannot go while the environment uses it (ON DELETE RESTRICT).
  await expect(db.environmentClass.delete({ where: { id: environmentClass.id } })).rejects.toThrow();
}

/** Deleting the user takes its sessions, accounts, tokens, environments and their logs with it. */
export async function expectUserDeletionCascades(db: Db): Promise<void> {
  await db.user.delete({ where: { id: user.id } });
  const counts = {
    session: await db.session.count(),
    account: await db.account.count(),
    personalAccessToken: await db.personalAccessToken.count(),
    environment: await db.environment.count(),
    environmentLog: await db.environmentLog.count(),
    verification: await db.verification.count(),
    runner: await db.runner.count(),
    environmentClass: await db.environmentClass.count(),
    auditEntry: await db.auditEntry.count(),
  };
  expect(counts).toEqual({
    session: 0,
    account: 0,
    personalAccessToken: 0,
    environment: 0,
    environmentLog: 0,
    // Not owned by the user; the audit log keeps its entries (append-only, no relation).
    verification: 1,
    runner: 1,
    environmentClass: 1,
    auditEntry: 1,
  });
  // And a runner takes its classes.
  await db.runner.delete({ where: { id: runner.id } });
  expect(await db.environmentClass.count()).toBe(0);
}
