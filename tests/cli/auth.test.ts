import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { dirname } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WhoAmI } from "@ona/contracts";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { makeCliHome, type CliHome } from "../support/cli";
import { createToken, mutate, signUp, type SignedUpUser } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { closedPort, wellFormedToken } from "./helpers";

const DAY = 24 * 60 * 60 * 1000;

let databases: TestDatabases;
let server: TestServer;
let alice: SignedUpUser;
let bob: SignedUpUser;
let aliceToken: { id: string; secret: string };
let bobToken: { id: string; secret: string };
let cli: CliHome;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases, runner: false });
  alice = await signUp(server.url);
  bob = await signUp(server.url);
  const a = await createToken(server.url, alice, { accessLevel: "read-write", description: "alice laptop" });
  const b = await createToken(server.url, bob, { accessLevel: "read-only", description: "bob ci" });
  aliceToken = { id: a.token.id, secret: a.secret };
  bobToken = { id: b.token.id, secret: b.secret };
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
});

beforeEach(() => {
  cli = makeCliHome();
});
afterEach(() => cli.remove());

function credentials(): { currentContext: string | null; contexts: Record<string, { host: string; token: string; tokenId?: string; user?: string }> } {
  return JSON.parse(readFileSync(cli.credentialsPath, "utf8")) as ReturnType<typeof credentials>;
}

describe("ona login", () => {
  it("checks the token with the server, then stores it per host: file 0600 in a 0700 folder, nothing on stdout", async () => {
    const result = await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`logged in to ${server.url} as ${alice.email} (token ${aliceToken.id}, read-write, expires `);
    expect(result.stderr).not.toContain(aliceToken.secret);

    expect(statSync(cli.credentialsPath).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(cli.credentialsPath)).mode & 0o777).toBe(0o700);
    const stored = credentials();
    const name = new URL(server.url).host;
    expect(stored.currentContext).toBe(name);
    expect(stored.contexts[name]).toMatchObject({ host: server.url, token: aliceToken.secret, tokenId: aliceToken.id, user: alice.email });

    // The stored token is used when neither --token nor ONA_TOKEN is given, and so is the host.
    const whoami = await cli.ona(["whoami", "-o", "json"]);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ user: { email: alice.email }, token: { id: aliceToken.id } });
  });

  it("with ONA_TOKEN set, `ona login` with no flags stores it (host from ONA_HOST)", async () => {
    const result = await cli.ona(["login"], { env: { ONA_TOKEN: bobToken.secret, ONA_HOST: server.url } });
    expect(result.code).toBe(0);
    expect(Object.values(credentials().contexts)[0]).toMatchObject({ host: server.url, token: bobToken.secret, tokenId: bobToken.id });
    const whoami = await cli.ona(["whoami"]);
    expect(whoami.stdout).toContain(bob.email);
  });

  it("without a token and without a terminal it does not prompt: exit 2 and what to do", async () => {
    const result = await cli.ona(["login", "--host", server.url], { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`error: no token given\n  → run ona login --token <token>, or set ONA_TOKEN (create a token at ${server.url}/settings/personal-access-tokens)\n`);
  });

  it("refuses a malformed token offline: no server call (the host is a closed port), exit 4", async () => {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const notAToken = await cli.ona(["login", "--token", "hunter2", "--host", host]);
    expect(notAToken.code).toBe(4);
    expect(notAToken.stderr).toMatch(/^error: the token from --token is not a personal access token: those start with ona_pat_ and are 46 characters long\n/);
    expect(notAToken.stderr).not.toMatch(/could not reach/);

    const last = aliceToken.secret.at(-1) === "A" ? "B" : "A";
    const mistyped = `${aliceToken.secret.slice(0, -1)}${last}`;
    const badChecksum = await cli.ona(["login", "--token", mistyped, "--host", host]);
    expect(badChecksum.code).toBe(4);
    expect(badChecksum.stderr).toMatch(/its checksum does not match, so it was probably mistyped or cut short/);
    expect(badChecksum.stderr).not.toContain(mistyped);
    expect(() => statSync(cli.credentialsPath)).toThrow();
  });

  it("a well-formed token the server does not know: exit 4, nothing stored", async () => {
    const result = await cli.ona(["login", "--token", wellFormedToken(), "--host", server.url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/refused the token: the access token is not valid/);
    expect(result.stderr).toMatch(/create a new token at .*\/settings\/personal-access-tokens and run ona login --token <token>/);
    expect(() => statSync(cli.credentialsPath)).toThrow();
  });

  it("a server that is not running: exit 1, could not reach it", async () => {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli.ona(["login", "--token", aliceToken.secret, "--host", host]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`could not reach the Ona server at ${host}: is it running?`);
  });
});

describe("ona whoami", () => {
  it("shows user, token id, access level and expiry in each format", async () => {
    const env = { ONA_TOKEN: bobToken.secret, ONA_HOST: server.url };
    const table = await cli.ona(["whoami"], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^Host: +${server.url}$`, "m"));
    expect(table.stdout).toMatch(new RegExp(`^User: +${bob.email}`, "m"));
    expect(table.stdout).toMatch(new RegExp(`^Token: +${bobToken.id} \\(bob ci\\)$`, "m"));
    expect(table.stdout).toMatch(/^Access level: +read-only$/m);
    expect(table.stdout).toMatch(/^Expires: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in 29 days\)$/m);
    expect(table.stderr).toBe("");

    const json = await cli.ona(["whoami", "-o", "json"], { env });
    const parsed: unknown = JSON.parse(json.stdout);
    expect(WhoAmI.strict().parse(parsed)).toEqual(parsed);
    expect(parsed).toMatchObject({ user: { email: bob.email }, authMethod: "token", token: { id: bobToken.id, accessLevel: "read-only" } });

    const yaml = await cli.ona(["whoami", "-o", "yaml"], { env });
    expect(yaml.stdout).toMatch(/^user:\n {2}id: /);
    expect(yaml.stdout).toContain(`  email: ${bob.email}\n`);
    expect(yaml.stdout).toContain(`  id: ${bobToken.id}\n  description: bob ci\n  accessLevel: read-only\n`);
  });

  it("warns on stderr when the token expires within 7 days", async () => {
    server.clock.advance(-25 * DAY);
    const soon = await createToken(server.url, alice, { expiresInDays: 30, description: "expiring" });
    server.clock.reset();
    const result = await cli.ona(["whoami"], { env: { ONA_TOKEN: soon.secret, ONA_HOST: server.url } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(soon.token.id);
    expect(result.stderr).toMatch(
      new RegExp(`^warning: this token expires in 4 days \\(.*\\): create a new one at ${server.url}/settings/personal-access-tokens and run ona login --token <token>\\n$`),
    );
  });

  it("a revoked stored token: exit 4 and the way out", async () => {
    const doomed = await createToken(server.url, alice, { description: "doomed" });
    expect((await cli.ona(["login", "--token", doomed.secret, "--host", server.url])).code).toBe(0);
    await mutate(server.url, "token.revoke", { id: doomed.token.id }, { cookie: alice.cookie });
    const result = await cli.ona(["whoami"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      `error: the access token was revoked: create a new one in Settings → Personal access tokens\n  → run ona login --token <token> with a valid personal access token (create one at ${server.url}/settings/personal-access-tokens)\n`,
    );
  });
});

describe("ona logout", () => {
  it("forgets the stored token; the next command says to log in", async () => {
    await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    const result = await cli.ona(["logout"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`logged out of ${server.url}: removed the stored token ${aliceToken.id}`);
    expect(credentials()).toEqual({ version: 1, currentContext: null, contexts: {} });
    expect(statSync(cli.credentialsPath).mode & 0o777).toBe(0o600);

    const after = await cli.ona(["whoami", "--host", server.url]);
    expect(after.code).toBe(4);
    expect(after.stderr).toContain(`error: not logged in to ${server.url}\n  → run ona login --token <token>`);

    const again = await cli.ona(["logout", "--host", server.url], { env: { ONA_TOKEN: aliceToken.secret } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`not logged in to ${server.url}: nothing to do`);
    expect(again.stderr).toContain("warning: ONA_TOKEN is still set");
  });
});

describe("precedence", () => {
  it("token: --token > ONA_TOKEN > stored", async () => {
    await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    const stored = await cli.ona(["whoami", "-o", "json"]);
    expect(JSON.parse(stored.stdout)).toMatchObject({ token: { id: aliceToken.id } });
    const fromEnv = await cli.ona(["whoami", "-o", "json"], { env: { ONA_TOKEN: bobToken.secret } });
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ token: { id: bobToken.id } });
    const carol = await createToken(server.url, alice, { description: "flag" });
    const fromFlag = await cli.ona(["whoami", "-o", "json", "--token", carol.secret], { env: { ONA_TOKEN: bobToken.secret } });
    expect(JSON.parse(fromFlag.stdout)).toMatchObject({ token: { id: carol.token.id } });
  });

  it("host: --host > ONA_HOST > stored > http://localhost:3000; a stored token only goes to its own host", async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    // Nothing stored, nothing set: the default host.
    expect((await cli.ona(["whoami"])).stderr).toContain("not logged in to http://localhost:3000");

    await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    expect((await cli.ona(["whoami"])).code).toBe(0);

    // ONA_HOST wins over the stored host; the token stored for another host is not sent there.
    const env = await cli.ona(["whoami"], { env: { ONA_HOST: closed } });
    expect(env.code).toBe(4);
    expect(env.stderr).toContain(`not logged in to ${closed}`);
    const envWithToken = await cli.ona(["whoami"], { env: { ONA_HOST: closed, ONA_TOKEN: aliceToken.secret } });
    expect(envWithToken.stderr).toContain(`could not reach the Ona server at ${closed}`);

    // --host wins over ONA_HOST.
    const flag = await cli.ona(["whoami", "--host", server.url], { env: { ONA_HOST: closed } });
    expect(flag.code).toBe(0);
    expect(flag.stdout).toContain(alice.email);
  });
});

describe("ona config context", () => {
  it("lists, switches and deletes contexts, never showing a token", async () => {
    const local = server.url.replace("127.0.0.1", "localhost");
    await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    await cli.ona(["login", "--token", bobToken.secret, "--host", local]);
    const first = new URL(server.url).host;
    const second = new URL(local).host;

    const table = await cli.ona(["config", "context", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^CURRENT +NAME +HOST +USER +TOKEN +ACCESS +EXPIRES$/m);
    expect(table.stdout).toMatch(new RegExp(`^ +${first} +${server.url} +${alice.email} +${aliceToken.id} \\(ona_pat_`, "m"));
    expect(table.stdout).toMatch(new RegExp(`^\\* +${second} +${local} +${bob.email} +${bobToken.id}`, "m"));

    const json = await cli.ona(["config", "context", "list", "-o", "json"]);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: first, current: false, host: server.url, user: alice.email, tokenId: aliceToken.id, accessLevel: "read-write" }),
      expect.objectContaining({ name: second, current: true, host: local, user: bob.email, tokenId: bobToken.id, accessLevel: "read-only" }),
    ]);
    for (const output of [table.stdout, json.stdout, table.stderr]) {
      expect(output).not.toContain(aliceToken.secret);
      expect(output).not.toContain(bobToken.secret);
    }

    expect((await cli.ona(["whoami"])).stdout).toContain(bob.email);
    const use = await cli.ona(["config", "context", "use", first]);
    expect(use).toMatchObject({ code: 0, stdout: "" });
    expect(use.stderr).toContain(`switched to ${first}`);
    expect((await cli.ona(["whoami"])).stdout).toContain(alice.email);

    const missing = await cli.ona(["config", "context", "use", "nowhere.example.com"]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe('error: there is no context "nowhere.example.com"\n  → ona config context list shows the stored contexts\n');

    const deleted = await cli.ona(["config", "context", "delete", local]);
    expect(deleted.code).toBe(0);
    expect(Object.keys(credentials().contexts)).toEqual([first]);
    expect(statSync(cli.credentialsPath).mode & 0o777).toBe(0o600);
  });

  it("a damaged credentials file is reported with its path; login replaces it", async () => {
    await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    writeFileSync(cli.credentialsPath, "{ not json", { mode: 0o600 });
    const result = await cli.ona(["whoami"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: the credentials file ${cli.credentialsPath} cannot be read`);
    expect(result.stderr).toContain("→ delete it and run ona login --token <token> again");
    const login = await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url]);
    expect(login.code).toBe(0);
    expect((await cli.ona(["whoami"])).code).toBe(0);
  });
});

/** A non-loopback IPv4 address of this machine, where a server can listen that is "not this machine" by its address. */
function networkAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && entry.family === "IPv4" && !entry.internal)?.address;
  if (address === undefined) throw new Error("this test needs a network interface with an IPv4 address other than loopback");
  return address;
}

describe("ona login over plain http", () => {
  let remote: TestServer;
  let remoteToken: string;
  beforeAll(async () => {
    remote = await startTestServer({ databases, runner: false, address: networkAddress() });
    remoteToken = (await createToken(remote.url, await signUp(remote.url))).secret;
  });
  afterAll(async () => {
    await remote?.close();
  });

  it("warns that the token crosses the network unencrypted when the host is not this machine", async () => {
    expect(remote.url.startsWith("http://127.")).toBe(false);
    const result = await cli.ona(["login", "--token", remoteToken, "--host", remote.url]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`warning: ${remote.url} is plain http and not this machine: the token will cross the network unencrypted`);
    expect(result.stderr).toContain(`logged in to ${remote.url}`);
  });

  it("does not warn for this machine's own addresses", async () => {
    const port = new URL(server.url).port;
    for (const host of [server.url, `http://localhost:${port}`]) {
      const result = await cli.ona(["login", "--token", aliceToken.secret, "--host", host]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr, host).not.toContain("warning:");
    }
  });
});

describe("a stored token never goes to another host", () => {
  let capture: Server;
  let captureUrl: string;
  const seen: { url: string; authorization: string | undefined }[] = [];
  beforeAll(async () => {
    // Another server, not Ona: it records what it is sent and answers like a server refusing the token.
    capture = createServer((req, res) => {
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="other"' });
      res.end(JSON.stringify({ error: { message: "who are you?", code: -32001, data: { code: "UNAUTHORIZED", httpStatus: 401, onaCode: "UNAUTHENTICATED" } } }));
    });
    await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
    captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => capture.close(() => resolve()));
  });

  it("sends the token stored for one host to no other, whichever way the other host is chosen", async () => {
    expect((await cli.ona(["login", "--token", aliceToken.secret, "--host", server.url])).code).toBe(0);
    seen.length = 0;
    const port = new URL(captureUrl).port;
    const otherHosts = [captureUrl, `${captureUrl}/`, `http://localhost:${port}`, `http://127.0.0.1:${new URL(server.url).port}@127.0.0.1:${port}`];
    for (const host of otherHosts) {
      for (const args of [["--host", host, "whoami"], ["--host", host, "environment", "list"], ["--host", host, "token", "revoke", aliceToken.id]]) {
        const result = await cli.ona(args);
        expect(result.code, `${args.join(" ")}: ${result.stderr}`).not.toBe(0);
      }
      const viaEnvironment = await cli.ona(["whoami"], { env: { ONA_HOST: host } });
      expect(viaEnvironment.code, viaEnvironment.stderr).not.toBe(0);
    }
    expect(seen.filter((request) => request.authorization?.includes(aliceToken.secret))).toEqual([]);
    // The capture works: a token given for that host on the command line does reach it.
    const given = await cli.ona(["--host", captureUrl, "--token", bobToken.secret, "whoami"]);
    expect(given.code).toBe(4);
    expect(seen.map((request) => request.authorization)).toContain(`Bearer ${bobToken.secret}`);
    // And the stored token still goes to its own host.
    expect((await cli.ona(["whoami"])).code).toBe(0);
  });
});
