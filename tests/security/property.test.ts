import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listProcedures, type ProcedureInfo } from "@ona/api";
import { AuditAction, EnvironmentPhase } from "@ona/contracts";
import { registerRunner } from "@ona/runner";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

/**
 * For every procedure, 1 000 generated inputs — shaped like the real ones and plainly hostile —
 * never produce a 5xx or an unhandled rejection, and the ones the contract refuses produce
 * the VALIDATION error code.
 */
const PROMISED_RUNS = 1000;

/** ONA_PROPERTY_RUNS may raise the number of inputs per procedure, never lower it below what the README promises. */
function propertyRuns(setting: string | undefined): number {
  if (setting === undefined || setting.trim() === "") return PROMISED_RUNS;
  const runs = Number(setting);
  if (!Number.isInteger(runs) || runs < PROMISED_RUNS) {
    throw new Error(`ONA_PROPERTY_RUNS="${setting}" must be a whole number of at least ${PROMISED_RUNS} (the README promises that many per procedure), or unset`);
  }
  return runs;
}

const RUNS = propertyRuns(process.env.ONA_PROPERTY_RUNS);

const procedures = listProcedures().map(({ path, type, input }) => ({ path, type, schema: input }));

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\0",
    "\r\n",
    "../../../etc/passwd",
    "'; DROP TABLE \"user\"; --",
    "<script>alert(1)</script>",
    "ona_pat_0000",
    "ENVIRONMENT_PHASE_RUNNING",
    "read-only",
    "read-write",
    "--upload-pack=touch /tmp/pwned",
    "file:///etc",
    "\u202egnp.exe",
    "𝕆𝕟𝕒",
    "2026-01-01T00:00:00Z",
    "a".repeat(3000),
  ),
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(30, 60, 90, 0, -1, 101, 2 ** 53),
  fc.array(hostileString, { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

/** Values that satisfy each field's contract, so that a good share of inputs reach the services. */
function plausibleFields(ids: { tokens: string[]; environments: string[] }): Record<string, fc.Arbitrary<unknown>> {
  const isoDate = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
  const anyId = fc.oneof(fc.constantFrom(...ids.tokens, ...ids.environments), fc.string({ minLength: 1, maxLength: 64 }));
  return {
    id: anyId,
    tokenId: anyId,
    actorId: anyId,
    subjectId: anyId,
    classId: fc.constantFrom("local-small", "local-large", "gpu-xl"),
    pageSize: fc.integer({ min: 1, max: 100 }),
    nextToken: fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.tuple(isoDate, fc.string({ maxLength: 20 })).map((cursor) => Buffer.from(JSON.stringify(cursor)).toString("base64url")),
    ),
    description: fc.string({ minLength: 1, maxLength: 100 }),
    expiresInDays: fc.constantFrom(30, 60, 90),
    accessLevel: fc.constantFrom("read-only", "read-write"),
    status: fc.subarray(["active", "expired", "revoked"]),
    phases: fc.subarray(EnvironmentPhase.options),
    contextUrl: fc.oneof(fc.constantFrom("/tmp/does-not-exist", "https://example.invalid/repo.git", "file:///nowhere"), fc.string({ minLength: 1, maxLength: 80 })),
    name: fc.string({ minLength: 1, maxLength: 80 }),
    command: fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 4 }),
    timeoutSeconds: fc.integer({ min: 1, max: 600 }),
    since: isoDate,
    from: isoDate,
    to: isoDate,
    action: fc.constantFrom(...AuditAction.options),
    outcome: fc.constantFrom("success", "denied", "failed"),
    allUsers: fc.boolean(),
  };
}

function inputArbitrary(schema: ProcedureInfo["input"], plausible: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const shape = schema && "shape" in schema && typeof schema.shape === "object" && schema.shape ? Object.keys(schema.shape) : [];
  // Each field is plausible seven times out of eight and hostile otherwise, so that inputs with
  // many fields still pass validation often enough to reach the service.
  const field = (key: string) => fc.oneof({ arbitrary: plausible[key] ?? value, weight: 7 }, { arbitrary: value, weight: 1 });
  const shaped = fc.record(Object.fromEntries(shape.map((key) => [key, field(key)])), { requiredKeys: [] });
  return fc.oneof({ arbitrary: shaped, weight: 6 }, { arbitrary: fc.anything({ maxDepth: 2, maxKeys: 4 }), weight: 1 }, { arbitrary: value, weight: 1 });
}

let databases: TestDatabases;
let server: TestServer;
let token: string;
let cookie: string;
let plausible: Record<string, fc.Arbitrary<unknown>>;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 1_000_000 } });
  const user = await signUp(server.url);
  cookie = user.cookie;
  token = (await createToken(server.url, user, { accessLevel: "read-write" })).secret;
  // The local runner's classes, registered as the runner does, without the runner working on
  // what the generated inputs create.
  await registerRunner(server.database.db, { id: "local", name: "local", kind: "local" }, () => new Date());
  // Real ids for the generated inputs to hit: tokens other than the caller's, and environments.
  const tokens = await Promise.all([1, 2, 3].map(() => createToken(server.url, user)));
  const environments = await Promise.all(
    [1, 2, 3].map(async () => {
      // A remote URL: local folders outside ONA_LOCAL_REPOSITORIES are refused, and no runner clones here.
      const created = await mutate(server.url, "environment.create", { contextUrl: "https://example.invalid/repo.git" }, { token });
      if (created.status !== 200) throw new Error(`environment.create: ${created.text}`);
      return (created.data as { environment: { id: string } }).environment.id;
    }),
  );
  plausible = plausibleFields({ tokens: tokens.map((t) => t.token.id), environments });
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await server?.close();
  await databases?.stop();
});

describe(`generated inputs (${testDatabaseProvider()}, ${RUNS} per procedure)`, () => {
  it.each(procedures)("$path never fails with 5xx, and refuses what its contract refuses", async ({ path, type, schema }) => {
    let runs = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(inputArbitrary(schema, plausible), async (input) => {
        runs++;
        // token.create takes only a browser session; everything else is called with a token.
        const credentials = path === "token.create" ? { cookie } : { token };
        const result = type === "mutation" ? await mutate(server.url, path, input, credentials) : await query(server.url, path, input, credentials);
        expect(result.status, `${path} ${JSON.stringify(input)?.slice(0, 200)} → ${result.text.slice(0, 300)}`).toBeLessThan(500);
        if (!schema || schema.safeParse(input).success) accepted++;
        else {
          expect([400, 431], JSON.stringify(input)?.slice(0, 200)).toContain(result.status);
          if (result.status === 400) expect(result.error?.data.onaCode).toBe("VALIDATION");
        }
      }),
      // Always tried: a NUL byte, which PostgreSQL's text cannot hold, in an id and in a description.
      { numRuns: RUNS, examples: [[{ id: "\0" }], [{ id: "x", description: "\0", contextUrl: "/tmp/x", name: "\0", nextToken: "\0" }]] },
    );
    console.info(`${path}: ${runs} generated inputs sent, ${accepted} of them valid for the contract`);
    expect(unhandled).toEqual([]);
    expect(runs, "inputs actually sent").toBeGreaterThanOrEqual(RUNS);
    // Enough inputs got past validation to exercise the service behind the procedure.
    expect(accepted, `${accepted} of ${runs} inputs were valid`).toBeGreaterThanOrEqual(RUNS * 0.1);
    // A thousand requests per procedure; session-authenticated ones on PostgreSQL on a busy
    // machine have taken over a minute.
  }, 300_000);

  it("logged no internal error", () => {
    expect(server.logs.filter((line) => line.level === "error")).toEqual([]);
  });
});
