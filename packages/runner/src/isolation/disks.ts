import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { errnoOf } from "../errors";

const run = promisify(execFile);

/**
 * A disk of its own for each environment, where the machine allows it (the runner is root and
 * has loop devices): a sparse ext4 image of the class's size, mounted on the checkout folder
 * (nosuid, nodev). An environment that fills it gets "No space left on device" and nothing
 * else does; the image takes on the host only what is written into it.
 *
 *   <state>/disk.img     the image
 *   <state>/disk-ready   written once the image has a file system (a cut-short mkfs is redone)
 */
export interface EnvironmentDisks {
  /** Makes the image if needed and mounts it on `mountPoint`, owned by `owner`. Safe to repeat. */
  ensureMounted(stateDir: string, mountPoint: string, sizeBytes: number, owner: number): Promise<void>;
  /** Unmounts it (if mounted) and deletes the image. Processes using it must have ended. */
  remove(stateDir: string, mountPoint: string): Promise<void>;
}

/** Loop-mounted images, if this process is root and the tools and a loop device are there. */
export function detectDisks(): EnvironmentDisks | null {
  if (process.getuid?.() !== 0) return null;
  if (!existsSync("/dev/loop-control") || !["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].some((path) => existsSync(path))) return null;
  return {
    async ensureMounted(stateDir, mountPoint, sizeBytes, owner) {
      if (isMountPoint(mountPoint)) return;
      const image = join(stateDir, "disk.img");
      const ready = join(stateDir, "disk-ready");
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      if (!existsSync(ready)) {
        await rm(image, { force: true });
        await run("truncate", ["-s", String(sizeBytes), image]);
        // A 4 MiB journal instead of the default (128 MiB on a 20 GiB image); no reserved blocks.
        await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-J", "size=4", "-E", `root_owner=${owner}:${owner},nodiscard`, image]);
        await writeFile(ready, "ok\n");
      }
      mkdirSync(mountPoint, { recursive: true, mode: 0o700 });
      await run("mount", ["-o", "loop,nosuid,nodev,noatime", image, mountPoint]);
      try {
        rmdirSync(join(mountPoint, "lost+found"));
      } catch (error) {
        if (errnoOf(error) !== "ENOENT" && errnoOf(error) !== "ENOTEMPTY") throw error;
      }
    },
    async remove(stateDir, mountPoint) {
      if (isMountPoint(mountPoint)) {
        try {
          await run("umount", [mountPoint]);
        } catch {
          // Still busy for a moment after its processes ended: detach now, freed when idle.
          await run("umount", ["--lazy", mountPoint]);
        }
      }
      await rm(join(stateDir, "disk-ready"), { force: true });
      await rm(join(stateDir, "disk.img"), { force: true });
    },
  };
}

/** A folder on another device than its parent is a mount point (bind mounts of the same device aside, which we never make here). */
export function isMountPoint(path: string): boolean {
  try {
    const own = statSync(path);
    const parent = statSync(dirname(path));
    if (own.dev !== parent.dev) return true;
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .some((line) => line.split(" ")[4] === path);
  } catch {
    return false;
  }
}
