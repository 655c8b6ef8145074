import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, httpStatusOf, tokenFromRandomBytes } from "@ona/contracts";
import { EnvironmentFailedError, onaError, UnavailableError, WaitTimeoutError } from "@ona/sdk";
import { CredentialsStore, contextNameOf, credentialsPath, sendsInTheClear } from "../src/credentials";
import { parseDuration } from "../src/duration";
import { CliError, describeError, ExitCode, exitCodeOf, formatError } from "../src/errors";
import { parsePhases, resolveContextUrl } from "../src/commands/environment";
import { relativeTime, renderFields, renderTable } from "../src/output";
import { runCli } from "../src/program";

const context = { host: "http://ona.test", tokenSource: "stored credentials" };

describe("exit codes", () => {
  it("maps every error code once", () => {
    expect(Object.keys(exitCodeOf).sort()).toEqual([...ErrorCode.options].sort());
    expect(exitCodeOf).toEqual({
      UNAUTHENTICATED: 4,
      PERMISSION_DENIED: 4,
      NOT_FOUND: 5,
      VALIDATION: 2,
      CONFLICT: 1,
      FAILED_PRECONDITION: 1,
      RATE_LIMITED: 1,
      UNAVAILABLE: 1,
      INTERNAL: 1,
    });
  });

  it.each(ErrorCode.options)("an OnaError %s keeps the server's message and gets its exit code", (code) => {
    const described = describeError(onaError({ code, message: `server: ${code}`, httpStatus: httpStatusOf[code], retryAfterSeconds: 3 }), context);
    expect(described.message).toBe(`server: ${code}`);
    expect(described.exitCode).toBe(exitCodeOf[code]);
  });

  it("says what to do next", () => {
    expect(describeError(onaError({ code: "UNAUTHENTICATED", message: "the access token has expired" }), context).hint).toBe(
      "run ona login --token <token> with a valid personal access token (create one at http://ona.test/settings/personal-access-tokens)",
    );
    expect(describeError(onaError({ code: "UNAUTHENTICATED", message: "x" }), { ...context, tokenSource: "ONA_TOKEN" }).hint).toMatch(/^set ONA_TOKEN to a valid/);
    expect(describeError(onaError({ code: "PERMISSION_DENIED", message: "the token is read-only: create a read & write token to make changes" }), context).hint).toBe(
      "create a read & write token at http://ona.test/settings/personal-access-tokens, then run ona login --token <token>",
    );
    expect(describeError(onaError({ code: "NOT_FOUND", message: "environment x was not found" }), { ...context, listCommand: "ona environment list" }).hint).toBe(
      "ona environment list shows the ids you can use",
    );
    expect(describeError(onaError({ code: "RATE_LIMITED", message: "too many", retryAfterSeconds: 30 }), context).hint).toBe("try again in 30 s");
    expect(describeError(new UnavailableError({ code: "UNAVAILABLE", message: "could not reach the Ona server at x: is it running?" }), context).hint).toMatch(/start the server/);
  });

  it("validation issues not already in the message are added to it", () => {
    const error = onaError({ code: "VALIDATION", message: "invalid input", issues: [{ path: "name", message: "the name is at most 80 characters" }] });
    expect(describeError(error, context).message).toBe("invalid input (name: the name is at most 80 characters)");
  });

  it("waits that time out exit 6; failed environments exit 1 with their failure", () => {
    const environment = {
      id: "e1",
      metadata: { name: "n", creator: { id: "u", principal: "user" as const }, createdAt: "2030-01-01T00:00:00Z", runnerId: "local" },
      spec: { desiredPhase: "ENVIRONMENT_PHASE_RUNNING" as const, machine: { class: "c" }, content: { initializer: { specs: [] } } },
      status: { phase: "ENVIRONMENT_PHASE_STOPPED" as const, statusVersion: 2, failureMessage: ["clone failed"], warningMessage: [] },
    };
    expect(describeError(new WaitTimeoutError(environment, "ENVIRONMENT_PHASE_RUNNING", 1000), context)).toMatchObject({ exitCode: 6 });
    expect(describeError(new EnvironmentFailedError(environment, "ENVIRONMENT_PHASE_RUNNING"), context)).toEqual({
      message: "environment e1 failed: clone failed",
      hint: "ona environment logs e1 shows what happened",
      exitCode: 1,
    });
  });

  it("an unexpected error shows no stack unless verbose", () => {
    const error = new Error("boom");
    const described = describeError(error, context);
    expect(described.exitCode).toBe(1);
    expect(formatError(error, described, false)).toBe("error: unexpected error: boom\n  → run again with --verbose for details\n");
    expect(formatError(error, described, true)).toMatch(/\n\s+at /);
  });
});

describe("argument parsing", () => {
  it("durations", () => {
    expect(parseDuration("90")).toBe(90_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2h")).toBe(7_200_000);
    for (const bad of ["", "soon", "5 m", "-1s", "0", "1d"]) expect(() => parseDuration(bad)).toThrow(CliError);
  });

  it("phases: short names, full names, commas; anything else is a usage error", () => {
    expect(parsePhases(["running", "STOPPED,deleted", "ENVIRONMENT_PHASE_CREATING"])).toEqual([
      "ENVIRONMENT_PHASE_RUNNING",
      "ENVIRONMENT_PHASE_STOPPED",
      "ENVIRONMENT_PHASE_DELETED",
      "ENVIRONMENT_PHASE_CREATING",
    ]);
    expect(() => parsePhases(["sleeping"])).toThrow(expect.objectContaining({ exitCode: ExitCode.USAGE }));
    expect(() => parsePhases(["unspecified"])).toThrow(CliError);
  });

  it("a context URL naming a local folder becomes an absolute path; URLs stay as they are", () => {
    const dir = mkdtempSync(join(tmpdir(), "ona-ctx-"));
    try {
      expect(resolveContextUrl(".", dir)).toBe(dir);
      expect(resolveContextUrl("https://github.com/org/repo", dir)).toBe("https://github.com/org/repo");
      expect(resolveContextUrl("git@github.com:org/repo.git", dir)).toBe("git@github.com:org/repo.git");
      expect(resolveContextUrl("not-here", dir)).toBe("not-here");
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("output", () => {
  it("tables are borderless, aligned columns", async () => {
    const text = await renderTable([{ id: "a", name: "first" }, { id: "bbbb", name: "x" }], [
      { header: "ID", value: (r) => r.id },
      { header: "NAME", value: (r) => r.name },
    ]);
    expect(text).toBe("ID     NAME\na      first\nbbbb   x\n");
  });

  it("fields skip empty values and align labels", () => {
    expect(renderFields({ a: "1", b: "" }, [
      { label: "Alpha", value: (i) => i.a },
      { label: "B", value: (i) => i.b },
      { label: "Gamma ray", value: () => "3" },
    ])).toBe("Alpha:      1\nGamma ray:  3\n");
  });

  it("relative times", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    expect(relativeTime("2030-01-06T01:00:00Z", now)).toBe("in 5 days");
    expect(relativeTime("2029-12-31T23:00:00Z", now)).toBe("1 hour ago");
    expect(relativeTime("2030-01-01T00:00:10Z", now)).toBe("in less than a minute");
  });
});

describe("credentials", () => {
  it("knows which hosts a token would cross the network to unencrypted", () => {
    for (const host of ["http://ona.example.com", "http://192.0.2.2:3000", "http://10.0.0.1", "http://[fd00::2]:3000", "http://127.0.0.1.example.com"]) {
      expect(sendsInTheClear(host), host).toBe(true);
    }
    for (const host of ["https://ona.example.com", "http://localhost:3000", "http://LOCALHOST", "http://app.localhost:3000", "http://127.0.0.1:3000", "http://127.8.9.10", "http://[::1]:3000"]) {
      expect(sendsInTheClear(host), host).toBe(false);
    }
  });

  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("lives under XDG_CONFIG_HOME, else ~/.config", () => {
    expect(credentialsPath({ XDG_CONFIG_HOME: "/x/config", HOME: "/home/u" })).toBe("/x/config/ona/credentials.json");
    expect(credentialsPath({ XDG_CONFIG_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.config/ona/credentials.json");
    expect(credentialsPath({ HOME: "/home/u" })).toBe("/home/u/.config/ona/credentials.json");
    expect(contextNameOf("https://ona.example.com")).toBe("ona.example.com");
    expect(contextNameOf("http://127.0.0.1:3000/ona")).toBe("127.0.0.1:3000/ona");
  });

  it("is written 0600 in a 0700 folder, and warns when others can read it", () => {
    const dir = mkdtempSync(join(tmpdir(), "ona-cred-"));
    dirs.push(dir);
    const warnings: string[] = [];
    const store = new CredentialsStore({ XDG_CONFIG_HOME: dir }, (message) => warnings.push(message));
    store.write({ version: 1, currentContext: "a", contexts: { a: { host: "http://a", token: "t" } } });
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "ona")).mode & 0o777).toBe(0o700);
    const file = store.read();
    expect(store.current(file)).toEqual({ host: "http://a", token: "t" });
    expect(store.forHost(file, "http://a")?.token).toBe("t");
    expect(store.find(file, "http://a/")?.[0]).toBe("a");
    expect(warnings).toEqual([]);

    writeFileSync(store.path, readFileSync(store.path), { mode: 0o644 });
    chmodSync(store.path, 0o644);
    store.read();
    expect(warnings[0]).toMatch(/can be read by other users \(mode 644\): run chmod 600/);

    writeFileSync(store.path, JSON.stringify({ version: 2 }));
    expect(() => store.read()).toThrow(/cannot be read/);
    expect(store.readOrReset()).toEqual({ version: 1, currentContext: null, contexts: {} });
  });
});

describe("runCli in-process", () => {
  function io(env: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env, cwd: "/", stdinIsTTY: false },
    };
  }

  it("prints help on --help (exit 0) and refuses unknown options (exit 2)", async () => {
    const help = io();
    expect(await runCli(["--help"], help.io)).toBe(0);
    expect(help.out.join("")).toContain("Usage: ona");
    const bad = io();
    expect(await runCli(["whoami", "--nope"], bad.io)).toBe(2);
    expect(bad.err.join("")).toContain("unknown option '--nope'");
  });

  it("sends the resolved token and host through the SDK", async () => {
    const seen: string[] = [];
    const valid = tokenFromRandomBytes(new Uint8Array(64).fill(7)) ?? "";
    const run = io({ ONA_TOKEN: valid, ONA_HOST: "https://ona.example.com" });
    const fetch: typeof globalThis.fetch = (input, init) => {
      seen.push(`${String(input)} ${new Headers(init?.headers).get("authorization")}`);
      return Promise.resolve(new Response(JSON.stringify({ result: { data: { items: [], nextToken: null } } }), { headers: { "content-type": "application/json" } }));
    };
    expect(await runCli(["environment", "list-classes", "-o", "json"], { ...run.io, fetch })).toBe(0);
    expect(run.out.join("")).toBe("[]\n");
    expect(seen).toEqual([`https://ona.example.com/api/trpc/environmentClass.list Bearer ${valid}`]);
  });
});
