import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLogEntry, PersonalAccessToken } from "@ona/contracts";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { makeCliHome, type CliHome } from "../support/cli";
import { createToken, signUp, type SignedUpUser } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

let databases: TestDatabases;
let server: TestServer;
let user: SignedUpUser;
let cli: CliHome;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false });
  user = await signUp(server.url);
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

beforeEach(() => {
  cli = makeCliHome();
});
afterEach(() => cli.remove());

const as = (token: string) => ({ env: { ONA_TOKEN: token, ONA_HOST: server.url } });

describe("ona token", () => {
  it("list: a table, a JSON array of the contract shape, YAML; never a secret", async () => {
    const first = await createToken(server.url, user, { description: "deploy bot", accessLevel: "read-only" });
    const second = await createToken(server.url, user, { description: "laptop", accessLevel: "read-write", expiresInDays: 90 });

    const table = await cli.ona(["token", "list"], as(first.secret));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID +DESCRIPTION +ACCESS +STATUS +HINT +CREATED +EXPIRES +LAST USED$/m);
    expect(table.stdout).toMatch(new RegExp(`^${first.token.id} +deploy bot +read-only +active +ona_pat_\\w{4}…\\w{4} +\\d{4}-`, "m"));
    expect(table.stdout).toMatch(new RegExp(`^${second.token.id} +laptop +read-write +active .* never$`, "m"));

    const json = await cli.ona(["token", "list", "-o", "json"], as(first.secret));
    const items = PersonalAccessToken.strict().array().parse(JSON.parse(json.stdout));
    expect(items.map((t) => t.id)).toEqual(expect.arrayContaining([first.token.id, second.token.id]));

    const yaml = await cli.ona(["token", "list", "-o", "yaml"], as(first.secret));
    expect(yaml.stdout).toMatch(/^- id: /);
    expect(yaml.stdout).toContain("  description: deploy bot\n  accessLevel: read-only\n");

    for (const output of [table.stdout, json.stdout, yaml.stdout]) {
      expect(output).not.toContain(first.secret);
      expect(output).not.toContain(second.secret);
    }
  });

  it("revoke: the token stops working at once and stays listed as revoked", async () => {
    const admin = await createToken(server.url, user, { description: "admin" });
    const victim = await createToken(server.url, user, { description: "leaked" });

    const revoked = await cli.ona(["token", "revoke", victim.token.id, "-o", "json"], as(admin.secret));
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).toBe(`revoked token ${victim.token.id} (leaked)\n`);
    expect(PersonalAccessToken.strict().parse(JSON.parse(revoked.stdout))).toMatchObject({ id: victim.token.id, status: "revoked" });

    const refused = await cli.ona(["whoami"], as(victim.secret));
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("the access token was revoked");
    expect(refused.stderr).toContain("→ set ONA_TOKEN to a valid personal access token");

    const table = await cli.ona(["token", "list"], as(admin.secret));
    expect(table.stdout).toMatch(new RegExp(`^${victim.token.id} +leaked +read-write +revoked `, "m"));
  });

  it("revoking the stored token warns that the CLI needs another one", async () => {
    const own = await createToken(server.url, user, { description: "self" });
    await cli.ona(["login", "--token", own.secret, "--host", server.url]);
    const result = await cli.ona(["token", "revoke", own.token.id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Status: +revoked$/m);
    expect(result.stderr).toContain(`warning: that is the token stored for ${server.url}: run ona login --token <token> with another one`);
  });

  it("a read-only token may list but not revoke: exit 4 and what to do", async () => {
    const readOnly = await createToken(server.url, user, { accessLevel: "read-only" });
    const target = await createToken(server.url, user);
    const result = await cli.ona(["token", "revoke", target.token.id], as(readOnly.secret));
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      `error: the token is read-only: create a read & write token to make changes\n  → create a read & write token at ${server.url}/settings/personal-access-tokens, then run ona login --token <token>\n`,
    );
  });

  it("an unknown id: exit 5 and where to find the ids", async () => {
    const token = await createToken(server.url, user);
    const result = await cli.ona(["token", "revoke", "no-such-token"], as(token.secret));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^error: .*no-such-token.*\n {2}→ ona token list shows the ids you can use\n$/);
  });
});

describe("ona audit-logs", () => {
  it("shows what a token did, filtered by token, subject and action, up to --limit", async () => {
    const actor = await createToken(server.url, user, { description: "auditor" });
    const readOnly = await createToken(server.url, user, { accessLevel: "read-only" });
    const victims = [await createToken(server.url, user), await createToken(server.url, user)];
    for (const victim of victims) expect((await cli.ona(["token", "revoke", victim.token.id], as(actor.secret))).code).toBe(0);
    expect((await cli.ona(["token", "revoke", actor.token.id], as(readOnly.secret))).code).toBe(4);

    const json = await cli.ona(["audit-logs", "--token-id", actor.token.id, "-o", "json"], as(readOnly.secret));
    expect(json.code).toBe(0);
    const entries = AuditLogEntry.strict().array().parse(JSON.parse(json.stdout));
    expect(entries.map((e) => [e.action, e.subjectId, e.outcome])).toEqual([
      ["token.revoke", victims[1]?.token.id, "success"],
      ["token.revoke", victims[0]?.token.id, "success"],
    ]);
    expect(entries.every((e) => e.tokenId === actor.token.id && e.userAgent?.startsWith("ona-cli/"))).toBe(true);

    const denied = AuditLogEntry.array().parse(
      JSON.parse((await cli.ona(["audit-logs", "--subject-id", actor.token.id, "--action", "token.revoke", "-o", "json"], as(readOnly.secret))).stdout),
    );
    expect(denied).toEqual([expect.objectContaining({ tokenId: readOnly.token.id, outcome: "denied", subjectId: actor.token.id })]);

    const limited = await cli.ona(["audit-logs", "--limit", "1", "-o", "json"], as(readOnly.secret));
    expect((JSON.parse(limited.stdout) as unknown[]).length).toBe(1);

    const table = await cli.ona(["audit-logs", "--token-id", actor.token.id], as(readOnly.secret));
    expect(table.stdout).toMatch(/^TIME +ACTION +OUTCOME +SUBJECT +TOKEN +IP +REASON$/m);
    expect(table.stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +token\\.revoke +success +token ${victims[0]?.token.id} +${actor.token.id} +127\\.0\\.0\\.1`, "m"));

    const yaml = await cli.ona(["audit-logs", "--limit", "1", "-o", "yaml"], as(readOnly.secret));
    expect(yaml.stdout).toMatch(/^- id: /);
  });

  it("an unknown action is a usage error (exit 2) that lists the actions", async () => {
    const token = await createToken(server.url, user);
    const result = await cli.ona(["audit-logs", "--action", "Not An Action"], as(token.secret));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown action "Not An Action"\n {2}→ use one of environment\.create, .*token\.revoke/);
  });
});
