import { execFile, spawn } from "node:child_process";
import { existsSync, lstatSync, statSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { StepFailure, errnoOf, messageOf } from "../errors";
import { ENVIRONMENT_ID_VARIABLE, asProcessEnv, endEnvironmentProcesses, startProcess, type StartedProcess } from "../processes";
import {
  RUNNER_STATE_DIR,
  SANDBOX_PATH,
  environmentPaths,
  environmentVariables,
  trackerFor,
  type EnvironmentIdentity,
  type EnvironmentLimits,
  type EnvironmentPaths,
  type EnvironmentSpec,
} from "../workspace";
import type { ControlGroups } from "./cgroups";
import type { EnvironmentDisks } from "./disks";
import type { InsideProcessOptions, Isolation, IsolationReport } from "./isolation";
import { UidAllocator, type UidRange } from "./uids";

const run = promisify(execFile);

/** Where the checkout appears inside a sandbox; also the environment's HOME. */
export const WORKSPACE = "/workspace";
/** The user an environment is inside its sandbox (its uid is a host uid of its own, or the runner's). */
const SANDBOX_USER = "ona";

export interface SandboxOptions {
  environmentsDir: string;
  uidRange: UidRange;
  /** "private": a network namespace per environment with outbound access (slirp4netns); "shared": the host's network. */
  network: "private" | "shared";
  runnerEnv: Readonly<Record<string, string | undefined>>;
  /** Where the host-side tools are found (bubblewrap, slirp4netns, util-linux): the runner's PATH. */
  hostPath: string;
  /** Local repositories an environment was created from are bound read-only at their own path. */
  localSource: (contextUrl: string) => string | null;
}

export interface SandboxMachine {
  /** The runner is root: environments get host uids of their own, and the root steps below run. */
  root: boolean;
  cgroups: ControlGroups | null;
  disks: EnvironmentDisks | null;
  report: IsolationReport;
}

/** What is running for an environment, kept in `<state>/sandbox.json` so a restarted runner finds it. */
interface SandboxRecord {
  /** Host pid of the sandbox's init (bubblewrap as pid 1 of the environment's pid namespace). */
  initPid: number;
  /** Its start time (/proc/<pid>/stat field 22), so a reused pid is never taken for it. */
  initStartTime: string;
  uid: number;
  /** slirp4netns, the environment's link to the outside, when its network is private. */
  networkPid: number | null;
  networkStartTime: string | null;
}

/** How long a sandbox or its network may take to come up before the start counts as failed. */
const START_TIMEOUT_MS = 15_000;

/**
 * The root steps, as a POSIX shell script run by `unshare --mount` (a private mount namespace
 * that ends with it) before it drops to the environment's uid:
 *   1. join the environment's control groups (everything it execs stays in them);
 *   2. bind the folders the sandbox needs at a staging point every uid can reach (the data
 *      directory itself is 0700 and its parents may be too);
 *   3. for slirp4netns, a /dev/net/tun it may open (the host's may be root's only);
 *   4. `setpriv`: the environment's uid and gid, no supplementary groups, no new privileges.
 * Arguments: <stage> <uid> [cgroup.procs files…] --binds [<source> <name>…] -- [--tun] <command…>
 */
const ROOT_STEPS = `set -eu
stage=$1; uid=$2; shift 2
while [ "$1" != --binds ]; do echo $$ > "$1"; shift; done; shift
if [ "$1" != -- ]; then mount -t tmpfs -o size=64k,mode=0755 ona-stage "$stage"; fi
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mkdir "$stage/$2"; else : > "$stage/$2"; fi
  mount --bind "$1" "$stage/$2"; shift 2
done; shift
if [ "$1" = --tun ]; then
  mount -t tmpfs -o size=64k,mode=0755 ona-tun /dev/net; mknod -m 0666 /dev/net/tun c 10 200; shift
fi
exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs -- "$@"`;

/** Joins control groups, then runs the command: for processes entering a running sandbox as root's child. */
const JOIN_CGROUPS = `set -e; while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"`;

/** Runs argv inside the sandbox, saying "not found" as a shell would when the program is not there. */
const RUN_COMMAND = `command -v "$1" > /dev/null 2>&1 || { echo "$1: command not found" >&2; exit 127; }; exec "$@"`;

/** The sandbox's own "is up" line: printed by its first process once every mount is in place. */
const READY_LINE = "ona-sandbox-ready";

/**
 * Environments in sandboxes made with bubblewrap: their own user, mount, PID, IPC, UTS and
 * (by default) network namespaces; the checkout at /workspace is the only writable place
 * besides a private /tmp; /usr and /etc (minus its secrets) read-only; the data directory,
 * the database, other environments and the runner's notes simply absent. One long-lived
 * sandbox per running environment (its init is bubblewrap as pid 1); setup, exec and the
 * clone enter it with nsenter, so everything an environment runs shares one process tree, one
 * network and one set of limits, and stopping it ends all of it at once.
 */
export class Sandbox implements Isolation {
  readonly report: IsolationReport;
  private readonly uids: UidAllocator;

  constructor(
    private readonly options: SandboxOptions,
    private readonly machine: SandboxMachine,
  ) {
    this.report = machine.report;
    this.uids = new UidAllocator(join(options.environmentsDir, RUNNER_STATE_DIR, "uids"), options.uidRange);
  }

  workspacePath = (): string => WORKSPACE;

  private paths(environmentId: string): EnvironmentPaths {
    return environmentPaths(this.options.environmentsDir, environmentId);
  }

  async prepare(environment: EnvironmentSpec): Promise<void> {
    if (this.report.problem !== null) throw new StepFailure(this.report.problem);
    const paths = this.paths(environment.id);
    if (this.runningRecord(paths) !== null) return;
    // Whatever is left of an earlier sandbox (its network helper, say) goes first.
    await this.end(environment.id, 1_000);
    const uid = this.machine.root ? this.uids.uidFor(environment.id, paths.state) : (process.getuid?.() ?? 0);
    await this.prepareFolder(environment, paths, uid);
    const cgroupFiles = this.machine.cgroups?.create(environment.id, environment.limits) ?? [];
    const initPid = await this.startInit(environment, paths, uid, cgroupFiles);
    const network = this.options.network === "private" ? await this.startNetwork(environment, paths, uid, initPid) : null;
    const record: SandboxRecord = {
      initPid,
      initStartTime: startTimeOf(initPid) ?? "",
      uid,
      networkPid: network,
      networkStartTime: network === null ? null : startTimeOf(network),
    };
    writeFileSync(join(paths.state, "sandbox.json"), JSON.stringify(record) + "\n", { mode: 0o600 });
  }

  start(environment: EnvironmentIdentity, options: InsideProcessOptions): StartedProcess {
    const paths = this.paths(environment.id);
    const record = this.runningRecord(paths);
    const { extraEnv, ...rest } = options;
    const env = { ...this.variables(environment, paths), ...extraEnv };
    if (record === null) {
      // The sandbox went away under us (a reboot, its init killed): say so like a failed start.
      const error: NodeJS.ErrnoException = Object.assign(new Error(`the sandbox of environment ${environment.id} is not running`), {
        code: "ESRCH",
      });
      return { pid: undefined, result: Promise.resolve({ exitCode: 127, signal: null, timedOut: false, aborted: false, spawnError: error }), terminate: () => undefined };
    }
    const limits = readLimits(paths);
    const enter = [
      "nsenter",
      `--target=${record.initPid}`,
      "--user",
      "--mount",
      "--pid",
      "--ipc",
      "--uts",
      ...(this.options.network === "private" ? ["--net"] : []),
      "--preserve-credentials",
      "--root",
      "--wd",
      "--",
      "/bin/sh",
      "-c",
      RUN_COMMAND,
      "ona-exec",
      ...rest.argv,
    ];
    const limited = ["prlimit", ...rlimitArguments(limits), "--", ...enter];
    let argv: string[];
    if (this.machine.root) {
      const cgroupFiles = this.machine.cgroups?.procsFiles(environment.id) ?? [];
      const dropped = ["setpriv", `--reuid=${record.uid}`, `--regid=${record.uid}`, "--clear-groups", "--no-new-privs", "--", ...limited];
      argv = cgroupFiles.length === 0 ? dropped : ["sh", "-c", JOIN_CGROUPS, "ona-enter", ...cgroupFiles, "--", ...dropped];
    } else {
      argv = ["setpriv", "--no-new-privs", "--", ...limited];
    }
    return startProcess({ ...rest, argv, cwd: "/", env, tracker: trackerFor(paths, environment.id) });
  }

  async end(environmentId: string, graceMs: number): Promise<{ ended: number; survivors: number[] }> {
    const paths = this.paths(environmentId);
    const record = readRecord(paths);
    let ended = 0;
    if (record !== null && isSame(record.initPid, record.initStartTime)) {
      // Ask what runs inside to end (not init, pid 1, nor the sandbox's own first process, pid 2)…
      const inside = processesInNamespaceOf(record.initPid).filter((proc) => proc.innerPid > 2);
      for (const proc of inside) signal(proc.pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && processesInNamespaceOf(record.initPid).some((proc) => proc.innerPid > 2)) await delay(50);
      ended += inside.length;
      // …then end the namespace: the kernel kills every process in it when its init dies.
      signal(record.initPid, "SIGKILL");
      const killDeadline = Date.now() + 5_000;
      while (Date.now() < killDeadline && isSame(record.initPid, record.initStartTime)) await delay(20);
    }
    // The host side: bubblewrap's monitor, the network helper, nsenter and the root steps, a
    // sandbox whose record was never written; all carry the environment's marker.
    const rest = await endEnvironmentProcesses(trackerFor(paths, environmentId), environmentId, Math.min(graceMs, 1_000));
    if (rest.survivors.length === 0) {
      await rm(join(paths.state, "sandbox.json"), { force: true });
      try {
        this.machine.cgroups?.remove(environmentId);
      } catch {
        // Still emptying (a killed process not yet reaped): made again or removed at the next stop.
      }
    }
    return { ended: ended + rest.ended, survivors: rest.survivors };
  }

  async dispose(environmentId: string): Promise<void> {
    const paths = this.paths(environmentId);
    await this.machine.disks?.remove(paths.state, paths.checkout);
    this.machine.cgroups?.remove(environmentId);
    this.uids.release(environmentId, paths.state);
  }

  /** The record, if its init is still the process it names (and its network helper too). */
  private runningRecord(paths: EnvironmentPaths): SandboxRecord | null {
    const record = readRecord(paths);
    if (record === null || !isSame(record.initPid, record.initStartTime)) return null;
    if (this.options.network === "private" && (record.networkPid === null || !isSame(record.networkPid, record.networkStartTime ?? ""))) {
      return null;
    }
    return record;
  }

  private variables(environment: EnvironmentIdentity, paths: EnvironmentPaths): Record<string, string> {
    return environmentVariables(environment, { home: WORKSPACE, path: SANDBOX_PATH, runnerEnv: this.options.runnerEnv, checkout: paths.checkout });
  }

  /** The checkout (on a disk of its own where possible), owned by the environment's uid, and the files made for /etc. */
  private async prepareFolder(environment: EnvironmentSpec, paths: EnvironmentPaths, uid: number): Promise<void> {
    mkdirSync(paths.state, { recursive: true, mode: 0o700 });
    const disks = this.machine.disks;
    // A checkout made before disks existed keeps its files where they are.
    const legacy = existsSync(paths.checkout) && !existsSync(join(paths.state, "disk-ready")) && readdirSync(paths.checkout).length > 0;
    if (disks !== null && !legacy) {
      await disks.ensureMounted(paths.state, paths.checkout, environment.limits.diskBytes, uid);
    } else {
      mkdirSync(paths.checkout, { recursive: true, mode: 0o700 });
    }
    // A checkout from before per-environment users (or another uid's) becomes the environment's,
    // links included but never followed.
    if (this.machine.root && statSync(paths.checkout).uid !== uid) await run("chown", ["-R", "-P", `${uid}:${uid}`, paths.checkout]);
    writeFileSync(join(paths.state, "limits.json"), JSON.stringify(environment.limits) + "\n", { mode: 0o600 });
    const etc = join(paths.state, "etc");
    mkdirSync(etc, { recursive: true, mode: 0o755 });
    const hostname = `ona-${environment.id.slice(0, 12).toLowerCase()}`;
    const passwd = readOrEmpty("/etc/passwd")
      .split("\n")
      .filter((line) => line !== "" && line.split(":")[2] !== String(uid) && line.split(":")[0] !== SANDBOX_USER);
    const group = readOrEmpty("/etc/group")
      .split("\n")
      .filter((line) => line !== "" && line.split(":")[2] !== String(uid) && line.split(":")[0] !== SANDBOX_USER);
    writeFileSync(join(etc, "passwd"), [...passwd, `${SANDBOX_USER}:x:${uid}:${uid}:Ona environment:${WORKSPACE}:/bin/bash`, ""].join("\n"), { mode: 0o644 });
    writeFileSync(join(etc, "group"), [...group, `${SANDBOX_USER}:x:${uid}:`, ""].join("\n"), { mode: 0o644 });
    writeFileSync(join(etc, "hostname"), `${hostname}\n`, { mode: 0o644 });
    writeFileSync(join(etc, "hosts"), `127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t${hostname}\n`, { mode: 0o644 });
    // slirp4netns answers DNS at 10.0.2.3 (forwarding to the host's resolvers, loopback ones included).
    writeFileSync(join(etc, "resolv.conf"), "nameserver 10.0.2.3\n", { mode: 0o644 });
  }

  /** Starts the sandbox's init and waits until every mount is in place. Returns init's host pid. */
  private async startInit(environment: EnvironmentSpec, paths: EnvironmentPaths, uid: number, cgroupFiles: string[]): Promise<number> {
    const stage = this.machine.root ? stagingPoint() : null;
    const etc = join(paths.state, "etc");
    // Root: everything reaches bubblewrap through the staging point; otherwise by its own path.
    const binds: [string, string][] = [];
    const at = (source: string, name: string): string => {
      if (stage === null) return source;
      binds.push([source, name]);
      return `${stage}/${name}`;
    };
    const hostname = readFileSync(join(etc, "hostname"), "utf8").trim();
    // Memory-backed: never more than the class's memory, at most 1 GiB each.
    const tmpfsBytes = Math.min(environment.limits.memoryBytes, 1024 ** 3);
    const args = [
      "bwrap",
      "--unshare-user",
      "--unshare-ipc",
      "--unshare-pid",
      "--unshare-uts",
      "--unshare-cgroup-try",
      ...(this.options.network === "private" ? ["--unshare-net"] : []),
      "--hostname",
      hostname,
      ...systemMounts(),
      "--ro-bind",
      at(join(etc, "passwd"), "passwd"),
      "/etc/passwd",
      "--ro-bind",
      at(join(etc, "group"), "group"),
      "/etc/group",
      "--ro-bind",
      at(join(etc, "hosts"), "hosts"),
      "/etc/hosts",
      "--ro-bind",
      at(join(etc, "hostname"), "hostname"),
      "/etc/hostname",
      ...(this.options.network === "private" ? ["--ro-bind", at(join(etc, "resolv.conf"), "resolv.conf"), "/etc/resolv.conf"] : []),
      "--proc",
      "/proc",
      ...deviceMounts(),
      "--size",
      String(tmpfsBytes),
      "--tmpfs",
      "/dev/shm",
      "--size",
      String(tmpfsBytes),
      "--tmpfs",
      "/tmp",
      "--bind",
      at(paths.checkout, "workspace"),
      WORKSPACE,
    ];
    const source = this.options.localSource(environment.contextUrl);
    if (source !== null) args.push("--ro-bind", at(source, "source"), source);
    // Everything else is read-only, the sandbox's own root folder included.
    args.push("--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv");
    for (const [name, value] of Object.entries(this.variables(environment, paths))) args.push("--setenv", name, value);
    args.push("--info-fd", "3", "--", "/bin/sh", "-c", `echo ${READY_LINE}; exec sleep infinity`);

    const limited = ["prlimit", ...rlimitArguments(environment.limits), "--", ...args];
    const argv =
      stage === null
        ? ["setpriv", "--no-new-privs", "--", ...limited]
        : ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", ROOT_STEPS, "ona-sandbox", stage, String(uid), ...cgroupFiles, "--binds", ...binds.flat(), "--", ...limited];
    const started = await this.spawnHelper(environment, paths, argv, "sandbox");
    const info = await started.info;
    const initPid = info === null ? null : childPidOf(info);
    if (initPid === null) throw new StepFailure(`the sandbox did not start: ${started.errors() || "bubblewrap reported no process"}`);
    return initPid;
  }

  /** slirp4netns: the sandbox's own network with outbound access; the host's loopback is out of its reach. */
  private async startNetwork(environment: EnvironmentIdentity, paths: EnvironmentPaths, uid: number, initPid: number): Promise<number> {
    const command = [
      "slirp4netns",
      "--configure",
      "--mtu=65520",
      "--disable-host-loopback",
      "--enable-seccomp",
      `--userns-path=/proc/${initPid}/ns/user`,
      "--ready-fd=3",
      String(initPid),
      "tap0",
    ];
    const argv = this.machine.root
      ? ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", ROOT_STEPS, "ona-network", "/", String(uid), "--binds", "--", "--tun", ...command]
      : ["setpriv", "--no-new-privs", "--", ...command];
    const started = await this.spawnHelper(environment, paths, argv, "network");
    if ((await started.info) !== "1") throw new StepFailure(`the sandbox's network did not start: ${started.errors() || "slirp4netns reported nothing"}`);
    return started.pid;
  }

  /**
   * Starts a long-lived helper (the sandbox's init, its network) detached from the runner, so
   * it outlives a runner restart; reads fd 3 (bubblewrap's info, slirp4netns's readiness) and
   * for the sandbox its ready line. Its stderr is kept to explain a failed start.
   */
  private spawnHelper(
    environment: EnvironmentIdentity,
    paths: EnvironmentPaths,
    argv: string[],
    kind: "sandbox" | "network",
  ): Promise<{ pid: number; info: Promise<string | null>; errors(): string }> {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error("no command");
    // The marker lets a stop find the helper (and everything it started) after a runner restart.
    const env = { PATH: this.options.hostPath, LANG: "C.UTF-8", [ENVIRONMENT_ID_VARIABLE]: environment.id };
    const child = spawn(file, args, { cwd: "/", env: asProcessEnv(env), detached: true, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const { stdout, stderr: errors } = child;
    if (stdout === null || errors === null) throw new Error("spawn gave no pipes");
    return new Promise((resolve, reject) => {
      let stderr = "";
      errors.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-4000);
      });
      child.once("error", (error) => reject(new StepFailure(`${file} could not be started: ${messageOf(error)}`)));
      child.once("spawn", () => {
        const pid = child.pid;
        if (pid === undefined) return;
        trackerFor(paths, environment.id).record(pid);
        const infoStream = child.stdio[3] as Readable;
        const exited = new Promise<null>((done) => child.once("exit", () => done(null)));
        const timeout = new Promise<null>((done) => setTimeout(() => done(null), START_TIMEOUT_MS).unref());
        const infoText = kind === "network" ? readAll(infoStream, 1) : readJson(infoStream);
        const ready = kind === "sandbox" ? readUntil(stdout, READY_LINE) : Promise.resolve(true);
        const info = Promise.race([Promise.all([infoText, ready]).then(([text, isReady]) => (isReady ? text : null)), exited, timeout]).then(
          (value) => {
            // The helper lives on without us: nothing of it is read any more.
            stdout.destroy();
            errors.destroy();
            infoStream.destroy();
            child.unref();
            return value;
          },
        );
        resolve({ pid, info, errors: () => stderr.trim().split("\n").slice(-3).join("; ") });
      });
    });
  }
}

/**
 * Where the root steps bind what bubblewrap needs: a folder every uid can reach, made once,
 * empty on the host (the binds exist only inside each start's private mount namespace).
 */
function stagingPoint(): string {
  // Not inside the data directory, which other uids cannot reach.
  const candidates = ["/run/ona-sandbox", "/tmp/ona-sandbox-stage"];
  for (const candidate of candidates) {
    try {
      mkdirSync(candidate, { recursive: true, mode: 0o755 });
      const stat = lstatSync(candidate);
      if (stat.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0) return candidate;
    } catch {
      // try the next
    }
  }
  throw new StepFailure(`no safe staging folder for sandboxes (tried ${candidates.join(", ")}): each must be a folder owned by root that only root can write`);
}

/** /usr, the top-level links into it (or the folders, on a system that has them), /etc read-only minus its secrets. */
export function systemMounts(): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const name of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
    const path = `/${name}`;
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) args.push("--symlink", readlinkSync(path), path);
      else if (stat.isDirectory()) args.push("--ro-bind", path, path);
    } catch {
      // not on this system
    }
  }
  args.push("--ro-bind", "/etc", "/etc");
  for (const secret of ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/ssl/private", "/etc/ssh"]) {
    try {
      const stat = lstatSync(secret);
      if (stat.isDirectory()) args.push("--tmpfs", secret);
      else args.push("--ro-bind", "/dev/null", secret);
    } catch {
      // not on this system
    }
  }
  return args;
}

/** A /dev of the harmless devices only: no disks, no host terminals, no /dev/net/tun. */
function deviceMounts(): string[] {
  const args = ["--tmpfs", "/dev"];
  for (const device of ["null", "zero", "full", "random", "urandom", "tty"]) args.push("--dev-bind", `/dev/${device}`, `/dev/${device}`);
  args.push(
    "--symlink",
    "/proc/self/fd",
    "/dev/fd",
    "--symlink",
    "/proc/self/fd/0",
    "/dev/stdin",
    "--symlink",
    "/proc/self/fd/1",
    "/dev/stdout",
    "--symlink",
    "/proc/self/fd/2",
    "/dev/stderr",
  );
  return args;
}

/**
 * rlimits for every process: processes (counted per uid, and per user namespace), the size of
 * one file (the whole disk where it is an image of its own), and private writable memory per
 * process (RLIMIT_DATA, not RLIMIT_AS, which would break runtimes that reserve address space).
 */
function rlimitArguments(limits: EnvironmentLimits): string[] {
  return [`--nproc=${limits.processes}`, `--fsize=${limits.diskBytes}`, `--data=${limits.memoryBytes}`, "--core=0"];
}

function readLimits(paths: EnvironmentPaths): EnvironmentLimits {
  return JSON.parse(readFileSync(join(paths.state, "limits.json"), "utf8")) as EnvironmentLimits;
}

function readRecord(paths: EnvironmentPaths): SandboxRecord | null {
  try {
    return JSON.parse(readFileSync(join(paths.state, "sandbox.json"), "utf8")) as SandboxRecord;
  } catch {
    return null;
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Field 22 of the line is the 20th after "pid (comm)"; state is the first.
    return fields[0] === "Z" ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

function isSame(pid: number, startTime: string): boolean {
  return startTime !== "" && startTimeOf(pid) === startTime;
}

interface NamespaceMember {
  pid: number;
  /** Its pid inside the sandbox's namespace (1 is init). */
  innerPid: number;
}

/** The processes in the same pid namespace as `initPid`, with their pids inside it. */
function processesInNamespaceOf(initPid: number): NamespaceMember[] {
  let namespace: string;
  try {
    namespace = readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch {
    return [];
  }
  const members: NamespaceMember[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) !== namespace) continue;
      const status = readFileSync(`/proc/${name}/status`, "utf8");
      if (/^State:\s+Z/m.test(status)) continue;
      const inner = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).pop();
      members.push({ pid: Number(name), innerPid: Number(inner ?? 0) });
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (errnoOf(error) !== "ESRCH") throw error;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function childPidOf(info: string): number | null {
  try {
    const parsed: unknown = JSON.parse(info);
    if (typeof parsed === "object" && parsed !== null && "child-pid" in parsed && typeof parsed["child-pid"] === "number") return parsed["child-pid"];
  } catch {
    // not JSON: bubblewrap failed before it could say
  }
  return null;
}

/** Everything a stream gives until it ends, or its first `limit` characters. */
function readAll(stream: Readable, limit: number): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (text.length >= limit) resolve(text.slice(0, limit));
    });
    stream.once("end", () => resolve(text));
    stream.once("close", () => resolve(text));
    stream.once("error", () => resolve(text));
  });
}

/** A stream's text up to the first complete JSON document (bubblewrap's --info-fd). */
function readJson(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const finish = (): void => resolve(text);
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      try {
        JSON.parse(text);
        finish();
      } catch {
        // not complete yet
      }
    });
    stream.once("end", finish);
    stream.once("close", finish);
    stream.once("error", finish);
  });
}

function readUntil(stream: Readable, line: string): Promise<boolean> {
  return new Promise((resolve) => {
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (text.includes(line)) resolve(true);
    });
    stream.once("end", () => resolve(false));
    stream.once("close", () => resolve(false));
  });
}
