import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listProcedures, type ProcedureInfo } from "@ona/api";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { createToken, mutate, query, signUp } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

/**
 * For every procedure, 1 000 generated inputs — shaped like the real ones and plainly hostile —
 * never produce a 5xx or an unhandled rejection, and the ones the contract refuses produce
 * the VALIDATION error code.
 */
const RUNS = Number(process.env.ONA_PROPERTY_RUNS ?? 1000);

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

function inputArbitrary(schema: ProcedureInfo["input"]): fc.Arbitrary<unknown> {
  const shape = schema && "shape" in schema && typeof schema.shape === "object" && schema.shape ? Object.keys(schema.shape) : [];
  const shaped = fc.record(Object.fromEntries(shape.map((key) => [key, value])), { requiredKeys: [] });
  return fc.oneof({ arbitrary: shaped, weight: 4 }, { arbitrary: fc.anything({ maxDepth: 2, maxKeys: 4 }), weight: 1 }, { arbitrary: value, weight: 1 });
}

let databases: TestDatabases;
let server: TestServer;
let token: string;
let cookie: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false, config: { authFailureLimit: 1_000_000 } });
  const user = await signUp(server.url);
  cookie = user.cookie;
  token = (await createToken(server.url, user, { accessLevel: "read-write" })).secret;
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await server?.close();
  await databases?.stop();
});

describe(`generated inputs (${process.env.ONA_TEST_DB ?? "sqlite"}, ${RUNS} per procedure)`, () => {
  it.each(procedures)("$path never fails with 5xx, and refuses what its contract refuses", async ({ path, type, schema }) => {
    await fc.assert(
      fc.asyncProperty(inputArbitrary(schema), async (input) => {
        // token.create takes only a browser session; everything else is called with a token.
        const credentials = path === "token.create" ? { cookie } : { token };
        const result = type === "mutation" ? await mutate(server.url, path, input, credentials) : await query(server.url, path, input, credentials);
        expect(result.status, `${path} ${JSON.stringify(input)?.slice(0, 200)} → ${result.text.slice(0, 300)}`).toBeLessThan(500);
        if (schema && !schema.safeParse(input).success) {
          expect([400, 431], JSON.stringify(input)?.slice(0, 200)).toContain(result.status);
          if (result.status === 400) expect(result.error?.data.onaCode).toBe("VALIDATION");
        }
      }),
      { numRuns: RUNS },
    );
    expect(unhandled).toEqual([]);
  });

  it("logged no internal error", () => {
    expect(server.logs.filter((line) => line.level === "error")).toEqual([]);
  });
});
