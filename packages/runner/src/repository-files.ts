import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "./errors";

/**
 * Reads files of a checkout for the runner itself (`.ona/setup.sh`, `devcontainer.json`)
 * without ever following a symbolic link: a repository may commit `devcontainer.json` as a
 * link to `../../server-secret`, and the runner, unlike the environment, can read that file.
 * Every component of the path is checked with lstat, and the file is opened with O_NOFOLLOW
 * and checked again on the open descriptor. Nothing of the environment runs while the runner
 * reads (the setup has not started), so the components cannot be swapped in between.
 */
export type RepositoryFile =
  | { kind: "missing" }
  | { kind: "file"; text: string }
  /** Present but not read: a link, a folder, a device, or too large. `reason` says which, naming only the repository path. */
  | { kind: "refused"; reason: string; link: boolean };

/** Setup declarations are small; a larger file is refused rather than read into memory. */
const MAX_REPOSITORY_FILE_BYTES = 1024 * 1024;

export function inspectRepositoryFile(checkout: string, relativePath: string): RepositoryFile {
  const parts = relativePath.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0 || parts.includes("..")) throw new Error(`not a repository path: ${relativePath}`);
  let current = checkout;
  for (const [index, part] of parts.entries()) {
    current = join(current, part);
    let stat;
    try {
      stat = lstatSync(current);
    } catch (error) {
      if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return { kind: "missing" };
      throw error;
    }
    const shown = parts.slice(0, index + 1).join("/");
    if (stat.isSymbolicLink()) return { kind: "refused", reason: `${shown} is a symbolic link, which Ona does not follow`, link: true };
    const last = index === parts.length - 1;
    if (!last && !stat.isDirectory()) return { kind: "missing" };
    if (last && !stat.isFile()) return { kind: "refused", reason: `${shown} is not a regular file`, link: false };
  }
  return { kind: "file", text: "" };
}

export function readRepositoryFile(checkout: string, relativePath: string): RepositoryFile {
  const inspected = inspectRepositoryFile(checkout, relativePath);
  if (inspected.kind !== "file") return inspected;
  let fd: number;
  try {
    fd = openSync(join(checkout, relativePath), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoOf(error) === "ELOOP") return { kind: "refused", reason: `${relativePath} is a symbolic link, which Ona does not follow`, link: true };
    if (errnoOf(error) === "ENOENT") return { kind: "missing" };
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { kind: "refused", reason: `${relativePath} is not a regular file`, link: false };
    if (stat.size > MAX_REPOSITORY_FILE_BYTES) {
      return { kind: "refused", reason: `${relativePath} is larger than ${MAX_REPOSITORY_FILE_BYTES / 1024} KiB`, link: false };
    }
    const buffer = Buffer.alloc(stat.size);
    let offset = 0;
    while (offset < buffer.length) {
      const read = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return { kind: "file", text: buffer.subarray(0, offset).toString("utf8") };
  } finally {
    closeSync(fd);
  }
}
