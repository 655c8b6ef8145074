import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { detectControlGroups } from "./cgroups";
import { detectDisks } from "./disks";
import { HostIsolation } from "./host";
import type { Isolation, IsolationReport } from "./isolation";
import { Sandbox, systemMounts, type SandboxOptions } from "./sandbox";
import { DEFAULT_UID_RANGE } from "./uids";
import { asProcessEnv } from "../processes";
import { SANDBOX_PATH } from "../workspace";

export type { Isolation, IsolationReport, InsideProcessOptions } from "./isolation";
export { parseIsolationReport } from "./isolation";
export { DEFAULT_UID_RANGE, type UidRange } from "./uids";
export { WORKSPACE } from "./sandbox";
export { DEFAULT_LIMITS, describeLimits, formatSize, limitsFromConfiguration, parseSize } from "./limits";

/** How environments are isolated: "sandbox" (the default) or "host", single-user mode, chosen explicitly. */
export type RuntimeMode = "sandbox" | "host";

export interface IsolationOptions extends Omit<SandboxOptions, "uidRange" | "network" | "hostPath"> {
  mode: RuntimeMode;
  uidRange?: SandboxOptions["uidRange"];
  network?: SandboxOptions["network"];
}

const INSTALL = "apt-get install -y bubblewrap slirp4netns";

/**
 * Looks at what this machine offers and makes the isolation for the runner. In sandbox mode
 * nothing is quietly left out: when no sandbox can be made, the report's `problem` says what
 * to install or enable, and every environment fails with that message until it is fixed
 * (or the operator chooses single-user mode with ONA_RUNTIME=host).
 */
export function createIsolation(options: IsolationOptions): Isolation {
  if (options.mode === "host") return new HostIsolation(options.environmentsDir, options.runnerEnv);
  const network = options.network ?? "private";
  const root = process.getuid?.() === 0;
  // The runner's own PATH finds the host-side tools (bubblewrap, slirp4netns), as it would for an operator's shell.
  const hostPath = options.runnerEnv.PATH ?? SANDBOX_PATH;
  const problem = sandboxProblem(root, network, hostPath);
  const cgroups = detectControlGroups();
  const disks = detectDisks();
  const properties = [
    "namespaces: user, mount, pid, ipc, uts" + (network === "private" ? ", network" : ""),
    root ? "users: one host uid per environment (the runner is root)" : "users: the runner's own uid, mapped into each sandbox (the runner is not root)",
    network === "private" ? "network: private per environment, outbound only (slirp4netns), the host's loopback unreachable" : "network: the host's (ONA_SANDBOX_NETWORK=shared)",
    cgroups !== null ? "limits: cgroup v1 (memory, processes, CPU) and rlimits" : "limits: rlimits (processes, memory per process, file size)",
    disks !== null ? "disk: an ext4 image of the class's size per environment" : "disk: the size of one file only",
  ];
  const warnings: string[] = [];
  if (network === "shared") warnings.push("ONA_SANDBOX_NETWORK=shared: environments reach the host's loopback services (a database without a password, say)");
  if (cgroups === null) warnings.push("no control groups the runner may write: memory and CPU are bounded per process only (run the runner as root on a cgroup v1 machine for whole-environment limits)");
  if (disks === null) warnings.push("no disk per environment (needs root and loop devices): an environment can fill the disk it shares with the server");
  if (!root) warnings.push("the runner is not root: every environment runs as the runner's uid, kept apart by namespaces only");
  const report: IsolationReport = { mode: "sandbox", properties, warnings, problem };
  return new Sandbox(
    { ...options, uidRange: options.uidRange ?? DEFAULT_UID_RANGE, network, hostPath },
    { root, cgroups, disks, report },
  );
}

/** Why no sandbox can be made here, with what to do; null when one can. */
function sandboxProblem(root: boolean, network: "private" | "shared", hostPath: string): string | null {
  const escape = "or, on a machine only you use, set ONA_RUNTIME=host (no sandbox)";
  if (process.platform !== "linux") return `environments need Linux namespaces to be sandboxed, and this is ${process.platform}; run the runner on Linux, ${escape}`;
  const tools = ["bwrap", "setpriv", "prlimit", "nsenter", ...(root ? ["unshare", "mount"] : []), ...(network === "private" ? ["slirp4netns"] : [])];
  const missing = tools.filter((tool) => !onPath(tool, hostPath));
  if (missing.length > 0) {
    const packages = missing.map((tool) => (tool === "bwrap" ? "bubblewrap" : tool === "slirp4netns" ? "slirp4netns" : "util-linux"));
    return `cannot sandbox environments: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not installed; install ${[...new Set(packages)].join(" and ")} (${INSTALL}), ${escape}`;
  }
  if (network === "private" && !root) {
    try {
      accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
    } catch {
      return `cannot give environments a network of their own: /dev/net/tun is missing or not open to this user; make it readable and writable (chmod 0666 /dev/net/tun), set ONA_SANDBOX_NETWORK=shared, ${escape}`;
    }
  }
  // A trial sandbox as the environments' user would be: the one test that tells whether user namespaces work.
  const trial = ["--unshare-user", "--unshare-pid", "--unshare-net", ...systemMounts(), "--proc", "/proc", "--", "/usr/bin/true"];
  const result = spawnSync("bwrap", trial, {
    encoding: "utf8",
    env: asProcessEnv({ PATH: hostPath }),
    timeout: 10_000,
    ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  if (result.status !== 0) {
    const said = `${result.stderr}`.trim().split("\n").pop() ?? "";
    return `cannot sandbox environments: bubblewrap could not make a sandbox (${said || `exit ${String(result.status ?? result.signal)}`}); enable unprivileged user namespaces (sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=15000), ${escape}`;
  }
  return null;
}

function onPath(tool: string, path: string): boolean {
  return path.split(":").some((dir) => {
    try {
      accessSync(`${dir}/${tool}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
