import { describe, expect, it } from "vitest";
import { parseContextUrl, planStep } from "../src";
import { isAcceptableBranch, redactUrl } from "../src/context-url";
import { gitReason } from "../src/git";
import { parseJsonc } from "../src/jsonc";
import { CappedOutput } from "../src/runtime";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readRepositoryFile } from "../src/repository-files";
import { findSetup } from "../src/setup";
import { environmentVariables, environmentPaths } from "../src/workspace";

describe("parseContextUrl", () => {
  it.each([
    ["https://github.com/acme/app", { url: "https://github.com/acme/app", branch: null }],
    ["https://github.com/acme/app.git#dev", { url: "https://github.com/acme/app.git", branch: "dev" }],
    ["https://github.com/acme/app/tree/feature/x", { url: "https://github.com/acme/app", branch: "feature/x" }],
    ["https://gitlab.com/group/sub/app/-/tree/main", { url: "https://gitlab.com/group/sub/app", branch: "main" }],
    ["/srv/repos/app#release%2F1.0", { url: "/srv/repos/app", branch: "release/1.0" }],
    ["file:///srv/repos/tree/app", { url: "file:///srv/repos/tree/app", branch: null }],
    ["git@github.com:acme/app.git", { url: "git@github.com:acme/app.git", branch: null }],
    ["/srv/app#", { url: "/srv/app", branch: null }],
  ])("%s", (input, expected) => {
    expect(parseContextUrl(input)).toEqual(expected);
  });

  it("rejects branch names that git would take as options or refuse", () => {
    expect(isAcceptableBranch("feature/x")).toBe(true);
    expect(isAcceptableBranch("--upload-pack=evil")).toBe(false);
    expect(isAcceptableBranch("a..b")).toBe(false);
    expect(isAcceptableBranch("a b")).toBe(false);
  });
});

describe("redactUrl", () => {
  it("hides passwords and tokens, keeps the rest", () => {
    expect(redactUrl("https://user:s3cret@example.com/r.git")).toBe("https://user:***@example.com/r.git");
    expect(redactUrl("https://ghp_token@github.com/acme/app")).toBe("https://***@github.com/acme/app");
    expect(redactUrl("ssh://git@example.com/r.git")).toBe("ssh://git@example.com/r.git");
    expect(redactUrl("git@github.com:acme/app.git")).toBe("git@github.com:acme/app.git");
    expect(redactUrl("/srv/repo")).toBe("/srv/repo");
  });
});

describe("planStep", () => {
  const P = (name: string) => `ENVIRONMENT_PHASE_${name}`;
  it.each([
    ["CREATING", "RUNNING", { kind: "work", phase: P("CREATING") }],
    ["STARTING", "RUNNING", { kind: "work", phase: P("STARTING") }],
    ["RUNNING", "RUNNING", null],
    ["STOPPED", "RUNNING", { kind: "enter", to: P("STARTING") }],
    ["RUNNING", "STOPPED", { kind: "enter", to: P("STOPPING") }],
    ["CREATING", "STOPPED", { kind: "enter", to: P("STOPPING") }],
    ["STOPPING", "STOPPED", { kind: "work", phase: P("STOPPING") }],
    ["STOPPING", "RUNNING", { kind: "work", phase: P("STOPPING") }],
    ["STOPPED", "STOPPED", null],
    ["RUNNING", "DELETED", { kind: "enter", to: P("DELETING") }],
    ["DELETING", "DELETED", { kind: "work", phase: P("DELETING") }],
    ["DELETED", "DELETED", null],
  ])("%s wanting %s", (phase, desired, expected) => {
    expect(planStep(P(phase), P(desired))).toEqual(expected);
  });
});

describe("parseJsonc", () => {
  it("accepts comments and trailing commas, leaving strings alone", () => {
    const text = `{
      // line comment
      "a": "http://x/* not a comment */", /* block */
      "b": [1, 2, ],
      "c": "quote \\" // still string",
    }`;
    expect(parseJsonc(text)).toEqual({ a: "http://x/* not a comment */", b: [1, 2], c: 'quote " // still string' });
  });
});

describe("gitReason", () => {
  it("prefers git's fatal and error lines", () => {
    expect(gitReason("Cloning into 'x'...\nfatal: repository '/nope' does not exist\n", 128)).toBe(
      "fatal: repository '/nope' does not exist",
    );
    expect(gitReason("", 128)).toBe("git exited with code 128");
  });
});

describe("CappedOutput", () => {
  it("keeps the first bytes, flags the cut, and never splits a character", () => {
    const out = new CappedOutput(5);
    out.push(Buffer.from("abcd"));
    out.push(Buffer.from("é!"));
    expect(out.truncated).toBe(true);
    expect(out.text()).toBe("abcd");
    const exact = new CappedOutput(4);
    exact.push(Buffer.from("abcd"));
    expect(exact.truncated).toBe(false);
  });
});

describe("environment variables and paths", () => {
  it("passes environments only allowlisted variables, the environment's identity and what the repository declares", () => {
    const checkout = mkdtempSync(join(tmpdir(), "ona-vars-"));
    writeFileSync(
      join(checkout, ".devcontainer.json"),
      '{ "containerEnv": { "EDITOR": "vim", "HOME": "/elsewhere", "BAD NAME": "x" }, "remoteEnv": { "FROM_REMOTE": "yes" } }',
    );
    const runnerEnv = { PATH: "/runner/bin", LANG: "de_DE.UTF-8", TERM: "xterm", DATABASE_URL: "postgresql://secret", ONA_SECRET: "x", GITHUB_TOKEN: "not-kept", HOME: "/root" };
    const env = environmentVariables({ id: "env1", contextUrl: "https://example.com/r" }, { home: "/workspace", path: "/usr/bin:/bin", runnerEnv, checkout });
    expect(env).toEqual({
      PATH: "/usr/bin:/bin",
      LANG: "de_DE.UTF-8",
      TERM: "xterm",
      HOME: "/workspace",
      ONA_ENVIRONMENT_ID: "env1",
      ONA_CONTEXT_URL: "https://example.com/r",
      EDITOR: "vim",
      FROM_REMOTE: "yes",
    });
    rmSync(checkout, { recursive: true });
  });

  it("reads no repository file through a symbolic link", () => {
    const checkout = mkdtempSync(join(tmpdir(), "ona-links-"));
    const secret = join(mkdtempSync(join(tmpdir(), "ona-secret-")), "server-secret");
    writeFileSync(secret, "s3cret-value");
    mkdirSync(join(checkout, ".devcontainer"));
    symlinkSync(secret, join(checkout, ".devcontainer", "devcontainer.json"));
    writeFileSync(join(checkout, "plain.json"), "{}");
    expect(readRepositoryFile(checkout, ".devcontainer/devcontainer.json")).toEqual({
      kind: "refused",
      reason: ".devcontainer/devcontainer.json is a symbolic link, which Ona does not follow",
      link: true,
    });
    expect(readRepositoryFile(checkout, "plain.json")).toEqual({ kind: "file", text: "{}" });
    expect(readRepositoryFile(checkout, "missing.json")).toEqual({ kind: "missing" });
    expect(() => findSetup(checkout)).toThrow(/symbolic link, which Ona does not follow/);
    expect(JSON.stringify(environmentVariables({ id: "e", contextUrl: "u" }, { home: "/w", path: "/bin", runnerEnv: {}, checkout }))).not.toContain("s3cret");
    // A linked folder on the way is not followed either; a linked setup script is still run, by
    // bash inside the environment, where the link leads only to the environment's own files.
    symlinkSync(dirname(secret), join(checkout, ".ona"));
    expect(readRepositoryFile(checkout, ".ona/server-secret")).toMatchObject({ kind: "refused", link: true });
    expect(findSetup(checkout)).toEqual([{ label: ".ona/setup.sh", argv: ["bash", ".ona/setup.sh"] }]);
  });

  it("refuses ids that are not plain folder names", () => {
    expect(() => environmentPaths("/data", "../etc")).toThrow();
    expect(() => environmentPaths("/data", ".ona-runner")).toThrow();
    expect(environmentPaths("/data", "abc123").checkout).toBe("/data/abc123");
  });
});
