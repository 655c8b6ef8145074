import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Environment, ExecOutput, LogLine } from "@ona/contracts";
import { openDatabase } from "@ona/db";
import { startTestDatabases, type TestDatabases } from "@ona/db/testing";
import { makeCliHome, type CliHome } from "../support/cli";
import { createToken, query, signUp } from "../support/client";
import { makeRepository } from "../support/git";
import { REPO_ROOT, startProductionServer, type ProductionServer } from "../support/production-server";

// What runs in an environment is hostile: each attempt below is made for real from inside one,
// through `ona environment exec` and through a repository's setup script, against the built
// server with its embedded runner, and each must be refused. The other side (what a developer
// needs) must keep working. The sandbox is the product's default; nothing here turns it on.

let databases: TestDatabases;
let server: ProductionServer;
let attacker: CliHome;
let victim: CliHome;
let attackerToken: string;
let victimToken: string;
let serverSecret: string;
let victimEnvironment: Environment;
let victimSecret: string;
/** A loopback service with no credentials of its own, as a database or a runner's exec port would be. */
let loopbackService: Server;
let loopbackPort: number;
let databaseUrl: string;

const onaOf = (cli: CliHome, token: string) => (args: string[], timeoutMs = 120_000) =>
  cli.ona(args, { env: { ONA_TOKEN: token, ONA_HOST: server.url }, timeoutMs });

async function createEnvironment(cli: CliHome, token: string, contextUrl: string, extra: string[] = []): Promise<Environment> {
  const result = await onaOf(cli, token)(["environment", "create", contextUrl, "-o", "json", ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return Environment.parse(JSON.parse(result.stdout));
}

async function exec(cli: CliHome, token: string, id: string, command: string[], timeoutSeconds = 60): Promise<ExecOutput> {
  const result = await onaOf(cli, token)(["environment", "exec", "--timeout", `${timeoutSeconds}s`, "-o", "json", id, "--", ...command]);
  // The exit code is the command's own; the JSON on stdout says what happened.
  expect(result.stdout, result.stderr).not.toBe("");
  return ExecOutput.parse(JSON.parse(result.stdout));
}

async function logsOf(cli: CliHome, token: string, id: string): Promise<string> {
  const result = await onaOf(cli, token)(["environment", "logs", id, "-o", "json"]);
  expect(result.code, result.stderr).toBe(0);
  return LogLine.array()
    .parse(JSON.parse(result.stdout))
    .map((line) => line.text)
    .join("\n");
}

beforeAll(async () => {
  databases = await startTestDatabases();
  const database = await databases.fresh();
  databaseUrl = database.url;
  server = await startProductionServer({ database });
  serverSecret = readFileSync(join(server.dataDir, "server-secret"), "utf8").trim();
  await signUp(server.url); // the administrator
  const attackerUser = await signUp(server.url);
  const victimUser = await signUp(server.url);
  attackerToken = (await createToken(server.url, attackerUser, { accessLevel: "read-write" })).secret;
  victimToken = (await createToken(server.url, victimUser, { accessLevel: "read-write" })).secret;
  attacker = makeCliHome();
  victim = makeCliHome();

  loopbackService = createServer((socket) => socket.end("a loopback service answered\n"));
  await new Promise<void>((resolve) => loopbackService.listen(0, "127.0.0.1", resolve));
  loopbackPort = (loopbackService.address() as { port: number }).port;

  victimSecret = `victim-secret-${process.pid}-${Date.now()}`;
  victimEnvironment = await createEnvironment(victim, victimToken, makeRepository({ "README.md": "# the victim's project\n" }));
  const planted = await exec(victim, victimToken, victimEnvironment.id, ["sh", "-c", `echo ${victimSecret} > secret.txt`]);
  expect(planted.exitCode).toBe(0);
}, 180_000);

afterAll(async () => {
  // Only there if an attempt got through (and then the tests failed): never leave them behind.
  for (const planted of ["/etc/ona-escape", "/usr/bin/ona-escape", "/ona-escape"]) rmSync(planted, { force: true });
  loopbackService?.close();
  await server?.stop();
  await databases?.stop();
  attacker?.remove();
  victim?.remove();
});

/**
 * The attempts, as a bash script: each prints "refused: <what>" or "ESCAPED: <what>". Paths and
 * pids are the host's, as an attacker who knows the installation would use them.
 */
function attemptsScript(targets: { victimDir: string; sourceDir: string }): string {
  const dataDir = server.dataDir;
  const serverPid = String(server.process.pid);
  return `
set +e
try() { what=$1; shift; if "$@" > /tmp/attempt.out 2>&1; then echo "ESCAPED: $what: $(head -c 300 /tmp/attempt.out | tr '\\n' ' ')"; else echo "refused: $what"; fi; }
is_server() { grep -q "server.js" /proc/${serverPid}/cmdline 2> /dev/null; }
try "read the server secret" cat "${dataDir}/server-secret"
try "find the server secret anywhere" sh -c 'find / -name server-secret 2> /dev/null | grep -q .'
try "read the database" sh -c 'head -c 16 "${dataDir}/ona.db" | grep -q SQLite'
try "write the database" sh -c 'echo x >> "${dataDir}/ona.db"'
try "list the data directory" sh -c 'ls "${dataDir}" | grep -q .'
try "read another environment's files" cat "${targets.victimDir}/secret.txt"
try "write into another environment" sh -c 'echo planted > "${targets.victimDir}/planted"'
try "see the server's process" is_server
try "signal the server" sh -c 'is_server() { grep -q server.js /proc/${serverPid}/cmdline; }; is_server && kill -STOP ${serverPid}'
try "read the server's environment" sh -c 'grep -q ONA /proc/${serverPid}/environ'
try "ptrace the server" sh -c 'grep -q server.js /proc/${serverPid}/cmdline && python3 -c "import ctypes, sys; sys.exit(0 if ctypes.CDLL(None).ptrace(16, ${serverPid}, 0, 0) == 0 else 1)"'
try "see more processes than its own" sh -c 'test "$(ls /proc | grep -c "^[0-9]")" -gt 25'
try "write /etc" touch /etc/ona-escape
try "write /usr" touch /usr/bin/ona-escape
try "write the root folder" touch /ona-escape
try "write the repository it was cloned from" touch "${targets.sourceDir}/ona-escape"
try "follow a committed link into the data directory" cat data-link/server-secret
try "become root through a setuid binary" sh -c 'test "$(${targets.sourceDir}/suid-id -u)" = 0'
try "become root through su" sh -c 'su -c true root < /dev/null'
try "mount a file system" sh -c 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m'
try "reach a loopback service of the host" python3 -c "import socket; socket.create_connection(('127.0.0.1', ${loopbackPort}), 2).recv(10)"
try "reach a loopback service through the gateway" python3 -c "import socket; socket.create_connection(('10.0.2.2', ${loopbackPort}), 2).recv(10)"
try "open a host device" sh -c 'ls /dev | grep -q -E "^(sd|vd|nvme|loop|mem|kmem)"'
try "reach the database server" python3 -c "import socket; socket.create_connection(('127.0.0.1', ${databasePort()}), 2)"
echo "identity: $(id -u) $(id -g)"
echo "attempts done"
`;
}

const ATTEMPTS = [
  "read the server secret",
  "find the server secret anywhere",
  "read the database",
  "write the database",
  "list the data directory",
  "read another environment's files",
  "write into another environment",
  "see the server's process",
  "signal the server",
  "read the server's environment",
  "ptrace the server",
  "see more processes than its own",
  "write /etc",
  "write /usr",
  "write the root folder",
  "write the repository it was cloned from",
  "follow a committed link into the data directory",
  "become root through a setuid binary",
  "become root through su",
  "mount a file system",
  "reach a loopback service of the host",
  "reach a loopback service through the gateway",
  "open a host device",
  "reach the database server",
];

/** PostgreSQL's port on loopback (trust authentication, as test servers run); SQLite has none, so the stand-in's. */
function databasePort(): number {
  return databaseUrl.startsWith("postgres") ? Number(new URL(databaseUrl).port) : loopbackPort;
}

function expectAllRefused(output: string): void {
  expect(output).toContain("attempts done");
  expect(output).not.toContain("ESCAPED");
  for (const attempt of ATTEMPTS) expect(output).toContain(`refused: ${attempt}`);
  expect(output).not.toContain(serverSecret);
  expect(output).not.toContain(victimSecret);
}

describe(`an environment reaches nothing but itself (${process.env.ONA_TEST_DB ?? "sqlite"})`, () => {
  let attackerEnvironment: Environment;
  let sourceDir: string;

  beforeAll(async () => {
    const victimDir = join(server.dataDir, "environments", victimEnvironment.id);
    // A repository whose setup makes every attempt; written once the targets are known.
    sourceDir = makeRepository({ "README.md": "# nothing to see\n", ".ona/setup.sh": "placeholder\n" });
    const script = attemptsScript({ victimDir, sourceDir });
    execFileSync("sh", ["-c", `cat > .ona/setup.sh && ln -s "${server.dataDir}" data-link && git add -A && git -c user.name=t -c user.email=t@e commit -qm attempts`], {
      cwd: sourceDir,
      input: script,
    });
    // A setuid-root program next to the repository, which the environment can see (read-only):
    // if setuid worked inside, `suid-id -u` would print 0.
    copyFileSync("/usr/bin/id", join(sourceDir, "suid-id"));
    chmodSync(join(sourceDir, "suid-id"), 0o4755);
    attackerEnvironment = await createEnvironment(attacker, attackerToken, sourceDir);
  }, 180_000);

  it("refuses every attempt made by the repository's setup", async () => {
    expect(attackerEnvironment.status.phase).toBe("ENVIRONMENT_PHASE_RUNNING");
    expectAllRefused(await logsOf(attacker, attackerToken, attackerEnvironment.id));
  });

  it("refuses every attempt made through ona environment exec", async () => {
    const script = readFileSync(join(sourceDir, ".ona/setup.sh"), "utf8");
    const result = await exec(attacker, attackerToken, attackerEnvironment.id, ["bash", "-c", script]);
    expectAllRefused(result.stdout + result.stderr);
  });

  it("runs as a user of its own that owns nothing else on the host, and the server is untouched", async () => {
    const identity = await exec(attacker, attackerToken, attackerEnvironment.id, ["sh", "-c", "id -u; touch made-here; ps -e -o comm="]);
    const [uid, ...processes] = identity.stdout.trim().split("\n");
    expect(Number(uid)).not.toBe(0);
    expect(processes.join(" ")).not.toMatch(/node|server\.js|postgres/);
    const checkout = join(server.dataDir, "environments", attackerEnvironment.id);
    if (process.getuid?.() === 0) {
      // A root runner gives every environment a host uid of its own.
      expect(statSync(join(checkout, "made-here")).uid).toBe(Number(uid));
      const victimUid = (await exec(victim, victimToken, victimEnvironment.id, ["id", "-u"])).stdout.trim();
      expect(victimUid).not.toBe(uid);
    }
    expect(existsSync(join(server.dataDir, "environments", victimEnvironment.id, "planted"))).toBe(false);
    expect(existsSync("/etc/ona-escape") || existsSync("/ona-escape") || existsSync(join(sourceDir, "ona-escape"))).toBe(false);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    expect(readFileSync(`/proc/${server.process.pid}/stat`, "utf8").split(") ")[1]?.[0]).not.toBe("T");
  });

  it("sees only allowlisted variables: none of the server's", async () => {
    const env = await exec(attacker, attackerToken, attackerEnvironment.id, ["env"]);
    const names = env.stdout
      .trim()
      .split("\n")
      .map((line) => line.split("=")[0] ?? "");
    // TERM only when the runner has one; PWD is the shell's own.
    const allowed = new Set(["HOME", "LANG", "ONA_CONTEXT_URL", "ONA_ENVIRONMENT_ID", "PATH", "PWD", "TERM"]);
    expect(names.filter((name) => !allowed.has(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(["HOME", "LANG", "ONA_CONTEXT_URL", "ONA_ENVIRONMENT_ID", "PATH"]));
    expect(env.stdout).not.toContain(serverSecret);
  });

  it("a devcontainer.json that links to the server secret fails to set up, showing none of it", async () => {
    const linked = makeRepository({ "README.md": "# linked\n" });
    mkdirSync(join(linked, ".devcontainer"));
    symlinkSync(join(server.dataDir, "server-secret"), join(linked, ".devcontainer", "devcontainer.json"));
    execFileSync("sh", ["-c", "git add -A && git -c user.name=t -c user.email=t@e commit -qm link"], { cwd: linked });
    const result = await onaOf(attacker, attackerToken)(["environment", "create", linked]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("devcontainer.json is a symbolic link, which Ona does not follow");
    const list = await onaOf(attacker, attackerToken)(["environment", "list", "-o", "json"]);
    const failed = Environment.array()
      .parse(JSON.parse(list.stdout))
      .find((environment) => environment.status.failureMessage.some((message) => message.includes("symbolic link")));
    expect(failed).toBeDefined();
    const everything = [result.stdout, result.stderr, list.stdout, await logsOf(attacker, attackerToken, failed?.id ?? ""), server.output()].join("\n");
    expect(everything).not.toContain(serverSecret);
  });

  it("cannot be created from the server's own checkout or another member's environment", async () => {
    for (const contextUrl of [pathToFileURL(REPO_ROOT).href, REPO_ROOT, pathToFileURL(join(server.dataDir, "environments", victimEnvironment.id)).href]) {
      const result = await onaOf(attacker, attackerToken)(["environment", "create", "--dont-wait", contextUrl]);
      expect(result.code, contextUrl).toBe(2);
      expect(result.stderr).toContain("cannot be cloned");
    }
  });

  it("leaves nothing of the server's secrets in what the server printed", () => {
    expect(server.output()).not.toContain(serverSecret);
    expect(server.output()).not.toContain(victimSecret);
  });
});

describe("what a developer needs keeps working inside the sandbox", () => {
  let environment: Environment;

  beforeAll(async () => {
    environment = await createEnvironment(
      attacker,
      attackerToken,
      makeRepository({ "README.md": "# works\n", "app.js": "console.log('node ran ' + (6 * 7));\n", ".ona/setup.sh": "echo setup ran > .setup-output\n" }),
    );
  }, 180_000);

  it("git, a shell, node, python3 and files in the workspace", async () => {
    const result = await exec(attacker, attackerToken, environment.id, [
      "bash",
      "-c",
      "set -e; git log --oneline | wc -l; git status --short; node app.js; python3 -c 'print(2 ** 10)'; cat .setup-output; echo note > note.txt; cat note.txt; echo $HOME; pwd",
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")).toEqual(["1", "?? .setup-output", "node ran 42", "1024", "setup ran", "note", "/workspace", "/workspace", ""]);
  });

  it("installs packages from the registry into the workspace, over the network", async () => {
    const result = await exec(
      attacker,
      attackerToken,
      environment.id,
      ["sh", "-c", "npm install --no-audit --no-fund --cafile /etc/ssl/certs/ca-certificates.crt is-number@7.0.0 > /dev/null && node -e \"console.log(require('is-number')(5))\""],
      300,
    );
    expect(result.stderr.split("\n").filter((line) => line.startsWith("npm error"))).toEqual([]);
    expect(result.stdout).toBe("true\n");
  });

  it("keeps background processes between commands, ends them at stop, and starts again with the files kept", async () => {
    const count = "ps -e -o args= | grep -c '^sleep 600.5$'";
    await exec(attacker, attackerToken, environment.id, ["sh", "-c", "echo kept > kept.txt; nohup sleep 600.5 > /dev/null 2>&1 &"]);
    expect((await exec(attacker, attackerToken, environment.id, ["sh", "-c", count])).stdout).toBe("1\n");
    const ona = onaOf(attacker, attackerToken);
    expect((await ona(["environment", "stop", environment.id])).code).toBe(0);
    expect((await ona(["environment", "start", environment.id])).code).toBe(0);
    const after = await exec(attacker, attackerToken, environment.id, ["sh", "-c", `${count}; cat kept.txt`]);
    expect(after.stdout).toBe("0\nkept\n");
    expect((await ona(["environment", "delete", environment.id])).code).toBe(0);
    // delete returns at once; the runner removes the folder (and unmounts its disk) soon after.
    const checkout = join(server.dataDir, "environments", environment.id);
    const deadline = Date.now() + 30_000;
    while (existsSync(checkout) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(existsSync(checkout)).toBe(false);
  });
});

describe("limits of the environment's class hold under attack, and the rest keeps answering", () => {
  let environment: Environment;
  const limits = { memory: 256 * 1024 ** 2, processes: 64, disk: 96 * 1024 ** 2 };

  beforeAll(async () => {
    // A class with small limits, as an administrator would add one.
    const database = await openDatabase(databaseUrl);
    await database.db.environmentClass.create({
      data: {
        id: "local-tiny",
        runnerId: "local",
        displayName: "Tiny",
        description: "for the limits test",
        configuration: JSON.stringify([
          { key: "cpu", value: "1" },
          { key: "memory", value: "256Mi" },
          { key: "processes", value: String(limits.processes) },
          { key: "disk", value: "96Mi" },
        ]),
        position: 9,
      },
    });
    await database.close();
    environment = await createEnvironment(attacker, attackerToken, makeRepository({ "README.md": "# tiny\n" }), ["--class-id", "local-tiny"]);
  }, 180_000);

  /** While `attack` runs inside the tiny environment, the API and another environment must answer. */
  async function underAttack(attack: string[]): Promise<{ attack: ExecOutput; apiMs: number[]; execMs: number[] }> {
    const running = exec(attacker, attackerToken, environment.id, attack, 30);
    const apiMs: number[] = [];
    const execMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      let started = performance.now();
      const health = await query(server.url, "environment.get", { id: victimEnvironment.id }, { token: victimToken });
      expect(health.status).toBe(200);
      apiMs.push(performance.now() - started);
      started = performance.now();
      expect((await exec(victim, victimToken, victimEnvironment.id, ["cat", "secret.txt"])).stdout).toBe(`${victimSecret}\n`);
      execMs.push(performance.now() - started);
    }
    return { attack: await running, apiMs, execMs };
  }

  it("a fork bomb stays within its process limit", async () => {
    // Counted from the host: every process of the environment carries its id in its variables.
    let most = 0;
    const counting = setInterval(() => {
      most = Math.max(most, hostProcessesOf(environment.id));
    }, 100);
    const { apiMs, execMs } = await underAttack(["bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 10"]).finally(() => clearInterval(counting));
    // The bomb really ran into the limit, and never past it.
    expect(most).toBeGreaterThan(limits.processes / 2);
    expect(most).toBeLessThanOrEqual(limits.processes + 8);
    console.info(`during a fork bomb: API ${summary(apiMs)}, exec in another environment ${summary(execMs)}`);
    // The environment is still ours to stop: every process of the bomb ends.
    expect((await onaOf(attacker, attackerToken)(["environment", "stop", environment.id])).code).toBe(0);
    expect((await onaOf(attacker, attackerToken)(["environment", "start", environment.id])).code).toBe(0);
  });

  it("a memory hog is stopped at the class's memory", async () => {
    const { attack, apiMs, execMs } = await underAttack([
      "python3",
      "-c",
      "chunks = []\nwhile True: chunks.append(bytearray(16 * 1024 * 1024))",
    ]);
    expect(attack.exitCode).not.toBe(0);
    console.info(`during a memory hog: API ${summary(apiMs)}, exec in another environment ${summary(execMs)}`);
    // Several processes together cannot pass it either (the whole environment is bounded where control groups allow).
    const together = await exec(attacker, attackerToken, environment.id, [
      "sh",
      "-c",
      "for i in 1 2 3 4; do python3 -c 'import time; x = bytearray(120 * 1024 * 1024); time.sleep(5); print(\"kept\")' & done; wait",
    ]);
    const kept = together.stdout.split("\n").filter((line) => line === "kept").length;
    expect(kept * 120 * 1024 ** 2).toBeLessThanOrEqual(limits.memory);
  });

  it("a disk filler stops at the class's disk", async () => {
    const before = statfsFree(server.dataDir);
    const { attack } = await underAttack(["sh", "-c", "dd if=/dev/zero of=filler bs=1M count=400 2>&1; ls -l filler"]);
    expect(attack.stdout).toMatch(/No space left on device|File too large/);
    const size = Number(/\s(\d+)\s+\w+\s+\d+\s+[\d:]+\s+filler/.exec(attack.stdout)?.[1] ?? "0");
    expect(size).toBeLessThanOrEqual(limits.disk);
    // The host's disk lost at most the class's disk.
    expect(before - statfsFree(server.dataDir)).toBeLessThanOrEqual(limits.disk + 16 * 1024 ** 2);
  });
});

function hostProcessesOf(environmentId: string): number {
  let count = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(`ONA_ENVIRONMENT_ID=${environmentId}`)) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

function statfsFree(path: string): number {
  const out = execFileSync("df", ["-B1", "--output=avail", path], { encoding: "utf8" });
  return Number(out.trim().split("\n").pop());
}

function summary(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`;
}
