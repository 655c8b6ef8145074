import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "../errors";
import type { EnvironmentLimits } from "../workspace";

/**
 * Per-environment control groups, where the kernel lets the runner make them: the memory,
 * pids and cpu controllers of a cgroup v1 hierarchy that the runner (as root) can write.
 * They bound an environment as a whole (all its processes together), which rlimits cannot.
 * Processes join by writing their own pid into the `cgroup.procs` files before they drop
 * their rights (see sandbox.ts), so nothing an environment starts is ever outside them.
 *
 * cgroup v2 (a single unified hierarchy) is not driven yet: there the sandbox keeps to
 * rlimits, and the runner's report says so.
 */
export interface ControlGroups {
  readonly kind: "cgroup v1";
  /** Makes (or updates) the environment's groups and returns the `cgroup.procs` files a process writes its pid into. */
  create(environmentId: string, limits: EnvironmentLimits): string[];
  /** The `cgroup.procs` files of groups made earlier by create(). */
  procsFiles(environmentId: string): string[];
  /** Removes the environment's groups; they must be empty (its processes ended). */
  remove(environmentId: string): void;
}

const V1_ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["memory", "pids", "cpu"] as const;
const PARENT = "ona";
const CPU_PERIOD_US = 100_000;

/** The v1 controllers, if all three are mounted and this process may make groups in them. */
export function detectControlGroups(): ControlGroups | null {
  if (process.getuid?.() !== 0) return null;
  for (const controller of CONTROLLERS) {
    const dir = join(V1_ROOT, controller);
    if (!existsSync(join(dir, "cgroup.procs")) || !isCgroupV1Mount(dir)) return null;
    try {
      mkdirSync(join(dir, PARENT), { recursive: true });
    } catch {
      return null;
    }
  }
  return {
    kind: "cgroup v1",
    create(environmentId, limits) {
      const files: string[] = [];
      for (const controller of CONTROLLERS) {
        const dir = join(V1_ROOT, controller, PARENT, environmentId);
        mkdirSync(dir, { recursive: true });
        if (controller === "memory") {
          writeFileSync(join(dir, "memory.limit_in_bytes"), String(limits.memoryBytes));
          // Swap would let a hog go past the limit at the cost of the whole machine's speed.
          writeIfPresent(join(dir, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
        } else if (controller === "pids") {
          writeFileSync(join(dir, "pids.max"), String(limits.processes));
        } else {
          writeFileSync(join(dir, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
          writeFileSync(join(dir, "cpu.cfs_quota_us"), String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))));
        }
        files.push(join(dir, "cgroup.procs"));
      }
      return files;
    },
    procsFiles(environmentId) {
      return CONTROLLERS.map((controller) => join(V1_ROOT, controller, PARENT, environmentId, "cgroup.procs"));
    },
    remove(environmentId) {
      for (const controller of CONTROLLERS) {
        try {
          rmdirSync(join(V1_ROOT, controller, PARENT, environmentId));
        } catch (error) {
          if (errnoOf(error) !== "ENOENT") throw error;
        }
      }
    },
  };
}

function writeIfPresent(file: string, value: string): void {
  if (existsSync(file)) writeFileSync(file, value);
}

function isCgroupV1Mount(dir: string): boolean {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .some((line) => line.split(" ")[4] === dir && / - cgroup /.test(line));
  } catch {
    return false;
  }
}
