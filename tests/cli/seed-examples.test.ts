import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Environment } from "@ona/contracts";
import { createClient, type OnaClient } from "@ona/sdk";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { makeCliHome, makeGitRepository, type CliHome } from "../support/cli";
import { createToken, signUp } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";

/*
 * The three examples of seed/personal-access-tokens.md ("Personal access tokens" in Ona's docs),
 * copied verbatim. They run unchanged: `ona` is on the PATH (a symlink to the built binary) and
 * the server is reached through ONA_HOST, since the scripts pass no --host. The only
 * substitutions are the ones a user makes: the token value, the class id (ONA_CLASS) and the
 * repository URL (a local git repository, as the test has no internet).
 */

const GITHUB_ACTIONS_JOB = String.raw`name: Ona Integration
on: [push]
jobs:
  create-environment:
    runs-on: ubuntu-latest
    steps:
      - name: Create Environment
        env:
          ONA_TOKEN: ${"$"}{{ secrets.ONA_PAT }}
          ONA_CLASS: some-class-id
        run: |
          ona login --token $ONA_TOKEN
          ona environment create --class-id $ONA_CLASS https://github.com/your-repo
`;

const SCRIPTED_ENVIRONMENT_MANAGEMENT = String.raw`import subprocess
import json

ONA_PAT = "your_personal_access_token"

def run_ona_command(*args):
    result = subprocess.run(
        ["ona"] + list(args),
        capture_output=True,
        text=True,
        check=True
    )
    return result.stdout.strip()

# Login using PAT
run_ona_command("login", "--token", ONA_PAT)

# List all environments
environments_json = run_ona_command("environment", "list", "-o", "json")
environments = json.loads(environments_json)

# Stop all running environments
for env in environments:
    if env['status']['phase'] == 'ENVIRONMENT_PHASE_RUNNING':
        print(f"Stopping environment {env['id']}")
        run_ona_command("environment", "stop", env['id'])

print("All running environments have been stopped.")
`;

const THIRD_PARTY_TOOL_INTEGRATION = String.raw`import subprocess
import json

ONA_PAT = "your_personal_access_token"

def create_environment_for_review(repo_url):
    # Login using PAT
    subprocess.run(["ona", "login", "--token", ONA_PAT], check=True)

    # Create an environment
    result = subprocess.run(
        ["ona", "environment", "create", repo_url, "--dont-wait"],
        capture_output=True,
        text=True,
        check=True
    )
    env_id = result.stdout.strip()

    # Get the environment details
    result = subprocess.run(
        ["ona", "environment", "get", env_id, "-o", "json"],
        capture_output=True,
        text=True,
        check=True
    )
    return json.loads(result.stdout)
`;

/** The `run: |` block of the job's step, as GitHub Actions hands it to bash. */
function runBlockOf(workflow: string): string {
  const lines = workflow.split("\n");
  const start = lines.findIndex((line) => line.trim() === "run: |");
  const indent = (lines[start + 1] ?? "").search(/\S/);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== "" && line.search(/\S/) < indent) break;
    block.push(line.slice(indent));
  }
  return `${block.join("\n").trimEnd()}\n`;
}

let databases: TestDatabases;
let server: TestServer;
let repository: { path: string; remove(): void };
let token: string;
let sdk: OnaClient;
let cli: CliHome;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startTestServer({ databases });
  repository = makeGitRepository();
  const user = await signUp(server.url);
  token = (await createToken(server.url, user, { accessLevel: "read-write", description: "seed examples" })).secret;
  sdk = createClient({ host: server.url, token });
});

afterAll(async () => {
  await server?.close();
  await databases?.stop();
  repository?.remove();
});

beforeEach(() => {
  cli = makeCliHome();
});
afterEach(() => cli.remove());

describe("the seed's examples run unchanged", () => {
  it("the GitHub Actions job: login with $ONA_TOKEN, then create with --class-id $ONA_CLASS", async () => {
    const run = runBlockOf(GITHUB_ACTIONS_JOB).replace("https://github.com/your-repo", repository.path);
    expect(run).toBe(`ona login --token $ONA_TOKEN\nona environment create --class-id $ONA_CLASS ${repository.path}\n`);
    const script = join(cli.dir, "step.sh");
    writeFileSync(script, run);
    // What GitHub Actions runs for a `run:` step on ubuntu-latest.
    const result = await cli.run("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      env: { ONA_TOKEN: token, ONA_CLASS: "local-small", ONA_HOST: server.url },
    });
    expect(result.stderr).toMatch(/logged in to .* as /);
    expect(result.code).toBe(0);
    const id = /^ID: +(\S+)$/m.exec(result.stdout)?.[1] ?? "";
    const environment = await sdk.environments.get(id);
    expect(environment.status.phase).toBe("ENVIRONMENT_PHASE_RUNNING");
    expect(environment.spec.machine.class).toBe("local-small");
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it("scripted environment management: stops every running environment", async () => {
    const running: string[] = [];
    for (let i = 0; i < 2; i++) {
      const environment = await sdk.environments.create({ contextUrl: repository.path, name: `bulk-${i}` });
      await sdk.environments.waitFor(environment.id, "ENVIRONMENT_PHASE_RUNNING", { timeoutMs: 60_000 });
      running.push(environment.id);
    }
    const script = join(cli.dir, "stop_all.py");
    writeFileSync(script, SCRIPTED_ENVIRONMENT_MANAGEMENT.replace("your_personal_access_token", token));

    const result = await cli.run("python3", [script], { env: { ONA_HOST: server.url } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const stopped = [...result.stdout.matchAll(/^Stopping environment (\S+)$/gm)].map((match) => match[1]);
    expect(stopped).toEqual(expect.arrayContaining(running));
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("All running environments have been stopped.");

    for (const id of running) expect((await sdk.environments.get(id)).status.phase).toBe("ENVIRONMENT_PHASE_STOPPED");
    const stillRunning = await sdk.environments.list({ phases: ["ENVIRONMENT_PHASE_RUNNING"] });
    expect(stillRunning.items).toEqual([]);
  });

  it("third-party tool integration: create_environment_for_review returns the environment", async () => {
    const script = join(cli.dir, "review.py");
    const call = `print(json.dumps(create_environment_for_review(${JSON.stringify(repository.path)})))\n`;
    writeFileSync(script, THIRD_PARTY_TOOL_INTEGRATION.replace("your_personal_access_token", token) + call);

    const result = await cli.run("python3", [script], { env: { ONA_HOST: server.url } });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^logged in to .* as /);
    const environment = Environment.strict().parse(JSON.parse(result.stdout));
    expect(environment.spec.content.initializer.specs[0]?.contextUrl.url).toBe(repository.path);
    expect(environment.spec.desiredPhase).toBe("ENVIRONMENT_PHASE_RUNNING");
    expect((await sdk.environments.waitFor(environment.id, "ENVIRONMENT_PHASE_RUNNING", { timeoutMs: 60_000 })).id).toBe(environment.id);
  });
});
