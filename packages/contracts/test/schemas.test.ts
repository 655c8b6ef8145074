import { describe, expect, it } from "vitest";
import {
  CreateEnvironmentInput,
  CreateTokenInput,
  Environment,
  ErrorCode,
  ExecInput,
  ListAuditLogInput,
  PageRequest,
  PersonalAccessToken,
  TokenIdInput,
  httpStatusOf,
  phaseFromShortName,
  shortPhase,
} from "../src/index";

describe("token inputs", () => {
  it("trims the description and keeps 1–100 characters", () => {
    expect(CreateTokenInput.parse({ description: "  ci  ", expiresInDays: 30, accessLevel: "read-only" }).description).toBe("ci");
    expect(CreateTokenInput.safeParse({ description: "   ", expiresInDays: 30, accessLevel: "read-only" }).success).toBe(false);
    expect(CreateTokenInput.safeParse({ description: "x".repeat(100), expiresInDays: 30, accessLevel: "read-only" }).success).toBe(true);
    expect(CreateTokenInput.safeParse({ description: "x".repeat(101), expiresInDays: 30, accessLevel: "read-only" }).success).toBe(false);
  });

  it.each([30, 60, 90])("accepts %i days", (days) => {
    expect(CreateTokenInput.safeParse({ description: "d", expiresInDays: days, accessLevel: "read-write" }).success).toBe(true);
  });

  it.each([0, 1, 29, 31, 91, 365, -30, 30.5, "30", null])("refuses %s days with a message naming the choices", (days) => {
    const result = CreateTokenInput.safeParse({ description: "d", expiresInDays: days, accessLevel: "read-write" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain("30, 60 or 90");
  });

  it("knows exactly two access levels", () => {
    expect(CreateTokenInput.safeParse({ description: "d", expiresInDays: 30, accessLevel: "admin" }).success).toBe(false);
  });

  it("has no field for a secret or a hash in the token shape", () => {
    expect(Object.keys(PersonalAccessToken.shape)).not.toContain("secret");
    expect(Object.keys(PersonalAccessToken.shape)).not.toContain("tokenHash");
  });
});

describe("environment inputs", () => {
  it("accepts any URL git accepts, and refuses option-looking and control characters", () => {
    for (const url of ["https://github.com/org/repo", "git@github.com:org/repo.git", "file:///tmp/repo", "/tmp/repo", "../repo"]) {
      expect(CreateEnvironmentInput.safeParse({ contextUrl: url }).success, url).toBe(true);
    }
    for (const url of ["", "   ", "--upload-pack=evil", "https://x/\nrepo", "a\0b", "x".repeat(2049)]) {
      expect(CreateEnvironmentInput.safeParse({ contextUrl: url }).success, url).toBe(false);
    }
  });

  it("needs a non-empty command without NUL bytes for exec", () => {
    expect(ExecInput.safeParse({ id: "e1", command: [] }).success).toBe(false);
    expect(ExecInput.safeParse({ id: "e1", command: ["echo", "a\0"] }).success).toBe(false);
    expect(ExecInput.safeParse({ id: "e1", command: ["echo", "hi"], timeoutSeconds: 0 }).success).toBe(false);
    expect(ExecInput.safeParse({ id: "e1", command: ["echo", "hi"], timeoutSeconds: 30 }).success).toBe(true);
  });

  it("maps short phase names both ways", () => {
    expect(phaseFromShortName("running")).toBe("ENVIRONMENT_PHASE_RUNNING");
    expect(phaseFromShortName("ENVIRONMENT_PHASE_STOPPED")).toBe("ENVIRONMENT_PHASE_STOPPED");
    expect(phaseFromShortName("sleeping")).toBeNull();
    expect(shortPhase("ENVIRONMENT_PHASE_DELETING")).toBe("deleting");
  });

  it("parses an environment in Ona's public shape", () => {
    const environment = {
      id: "env1",
      metadata: { name: "repo", creator: { id: "u1", principal: "user" }, createdAt: "2026-01-01T00:00:00.000Z", runnerId: "local" },
      spec: {
        desiredPhase: "ENVIRONMENT_PHASE_RUNNING",
        machine: { class: "local-small" },
        content: { initializer: { specs: [{ contextUrl: { url: "https://github.com/org/repo" } }] } },
      },
      status: { phase: "ENVIRONMENT_PHASE_CREATING", statusVersion: 0, failureMessage: [], warningMessage: [] },
    };
    expect(Environment.parse(environment)).toEqual(environment);
    expect(Environment.safeParse({ ...environment, status: { ...environment.status, phase: "RUNNING" } }).success).toBe(false);
  });
});

describe("pagination and filters", () => {
  it("bounds the page size to 1–100", () => {
    expect(PageRequest.safeParse({ pageSize: 0 }).success).toBe(false);
    expect(PageRequest.safeParse({ pageSize: 101 }).success).toBe(false);
    expect(PageRequest.safeParse({ pageSize: 2.5 }).success).toBe(false);
    expect(PageRequest.safeParse({ pageSize: 100 }).success).toBe(true);
  });

  it("accepts audit actions shaped like resource.verb only", () => {
    expect(ListAuditLogInput.safeParse({ action: "environment.create" }).success).toBe(true);
    expect(ListAuditLogInput.safeParse({ action: "drop table" }).success).toBe(false);
    expect(ListAuditLogInput.safeParse({ action: "environment.explode" }).success).toBe(false);
    expect(ListAuditLogInput.safeParse({ from: "yesterday" }).success).toBe(false);
  });
});

describe("text that reaches the database", () => {
  it("refuses NUL bytes, which PostgreSQL cannot store", () => {
    expect(TokenIdInput.safeParse({ id: "abc\0" }).success).toBe(false);
    expect(CreateTokenInput.safeParse({ description: "a\0b", expiresInDays: 30, accessLevel: "read-only" }).success).toBe(false);
    expect(CreateEnvironmentInput.safeParse({ contextUrl: "/tmp/repo", name: "x\0" }).success).toBe(false);
    expect(ListAuditLogInput.safeParse({ subjectId: "\0" }).success).toBe(false);
    expect(PageRequest.safeParse({ nextToken: "a\0" }).success).toBe(false);
  });
});

describe("error codes", () => {
  it("maps every code to an HTTP status", () => {
    for (const code of ErrorCode.options) expect(httpStatusOf[code]).toBeGreaterThanOrEqual(400);
    expect(httpStatusOf.UNAUTHENTICATED).toBe(401);
    expect(httpStatusOf.PERMISSION_DENIED).toBe(403);
    expect(httpStatusOf.RATE_LIMITED).toBe(429);
  });
});
