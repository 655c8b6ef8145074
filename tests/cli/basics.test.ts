import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeCliHome, type CliHome } from "../support/cli";
import { closedPort, wellFormedToken } from "./helpers";

let cli: CliHome;
beforeEach(() => {
  cli = makeCliHome();
});
afterEach(() => cli.remove());

describe("ona: help, version, usage errors (exit 2)", () => {
  it("--version prints the version on stdout", async () => {
    const result = await cli.ona(["--version"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("--help lists the commands, global options and exit codes", async () => {
    const result = await cli.ona(["--help"]);
    expect(result.code).toBe(0);
    for (const word of ["login", "logout", "whoami", "environment|env", "token", "audit-logs", "config", "completion", "--output", "--host", "--token", "--verbose", "Exit codes", "ONA_TOKEN"]) {
      expect(result.stdout).toContain(word);
    }
    const env = await cli.ona(["env", "--help"]);
    for (const word of ["create", "list", "get", "start", "stop", "delete", "exec", "logs", "list-classes"]) expect(env.stdout).toContain(word);
    const create = await cli.ona(["environment", "create", "--help"]);
    for (const word of ["--class-id", "--name", "--dont-wait", "--timeout"]) expect(create.stdout).toContain(word);
  });

  it("no command shows the help on stderr and exits 2", async () => {
    const result = await cli.ona([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Usage: ona");
  });

  it.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["whoami", "--frob"], /unknown option '--frob'/],
    [["-o", "xml", "whoami"], /Allowed choices are table, json, yaml/],
    [["environment", "get"], /missing required argument 'id'/],
    [["environment", "get", "a", "b"], /too many arguments/],
    [["environment", "list", "--phase", "sleeping"], /unknown phase "sleeping"[\s\S]*use one of creating, starting, running/],
    [["environment", "create", "/tmp", "--timeout", "soon"], /--timeout "soon" is not a duration/],
    [["audit-logs", "--limit", "0"], /--limit "0" is not a positive whole number/],
    [["completion", "powershell"], /unknown shell "powershell"[\s\S]*bash, zsh, fish/],
  ])("ona %j exits 2 and says why", async (args, message) => {
    const result = await cli.ona(args, { env: { ONA_TOKEN: wellFormedToken(), ONA_HOST: `http://127.0.0.1:${await closedPort()}` } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("ona: errors before and without a server", () => {
  it("without a token: exit 4, not logged in, what to do", async () => {
    const result = await cli.ona(["environment", "list"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      "error: not logged in to http://localhost:3000\n  → run ona login --token <token>, or set ONA_TOKEN (create a token at http://localhost:3000/settings/personal-access-tokens)\n",
    );
  });

  it("a malformed token from ONA_TOKEN is refused offline with exit 4, and never printed", async () => {
    const bad = "ona_pat_definitely-not-a-token";
    const result = await cli.ona(["whoami"], { env: { ONA_TOKEN: bad, ONA_HOST: `http://127.0.0.1:${await closedPort()}` } });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the token from ONA_TOKEN is not a personal access token: those start with ona_pat_ and are 46 characters long/);
    expect(result.stderr + result.stdout).not.toContain(bad);
  });

  it("a server that is not running: exit 1, could not reach, no stack trace unless --verbose", async () => {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const token = wellFormedToken();
    const result = await cli.ona(["environment", "list"], { env: { ONA_TOKEN: token, ONA_HOST: host } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: could not reach the Ona server at ${host}: is it running?\n  → start the server (pnpm start), or point --host or ONA_HOST at the right one\n`,
    );
    const verbose = await cli.ona(["environment", "list", "--verbose"], { env: { ONA_TOKEN: token, ONA_HOST: host } });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
    expect(verbose.stderr).toContain(`→ GET ${host}/api/trpc/environment.list`);
    expect(verbose.stderr + verbose.stdout).not.toContain(token);
  });
});

describe("ona completion", () => {
  it("bash completes commands, subcommands and option values", async () => {
    const complete = async (...words: string[]) => {
      const script = `source <(ona completion bash)\nCOMP_WORDS=(ona ${words.map((w) => `'${w}'`).join(" ")})\nCOMP_CWORD=${words.length}\n_ona_completion\necho "\${COMPREPLY[*]}"`;
      const result = await cli.run("bash", ["-c", script]);
      expect(result.stderr).toBe("");
      return result.stdout.trim().split(" ");
    };
    expect(await complete("")).toEqual(expect.arrayContaining(["login", "logout", "whoami", "environment", "env", "token", "audit-logs", "config", "completion"]));
    expect(await complete("env", "")).toEqual(expect.arrayContaining(["create", "list", "get", "start", "stop", "delete", "exec", "logs", "list-classes"]));
    expect(await complete("-o", "json", "environment", "cr")).toEqual(["create"]);
    expect(await complete("environment", "create", "--")).toEqual(expect.arrayContaining(["--class-id", "--name", "--dont-wait", "--timeout"]));
    expect(await complete("config", "context", "")).toEqual(expect.arrayContaining(["list", "use", "delete"]));
    expect(await complete("-o", "")).toEqual(["table", "json", "yaml"]);
    expect(await complete("env", "list", "--phase", "run")).toEqual(["running"]);
    expect(await complete("completion", "")).toEqual(expect.arrayContaining(["bash", "zsh", "fish"]));
    expect(await complete("audit-logs", "--action", "token.")).toEqual(["token.create", "token.revoke"]);
  });

  it("zsh and fish scripts are printed too", async () => {
    const zsh = await cli.ona(["completion", "zsh"]);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef ona\n/);
    expect(zsh.stdout).toContain("bashcompinit");
    const fish = await cli.ona(["completion", "fish"]);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c ona -n '__fish_use_subcommand' -a environment");
    expect(fish.stdout).toContain("complete -c ona -s o -l output -x -a 'table json yaml'");
  });
});
