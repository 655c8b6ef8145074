import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { releaseAllEnvironments } from "@ona/runner";

/**
 * The one folder test servers may clone local repositories from (their ONA_LOCAL_REPOSITORIES),
 * apart from their data folders, as an operator would set it up. Readable by everyone:
 * environments read repositories as users of their own.
 */
export const TEST_REPOSITORIES = mkdtempSync(join(tmpdir(), "ona-test-repositories-"));
chmodSync(TEST_REPOSITORIES, 0o755);

/** A new empty folder for a repository under TEST_REPOSITORIES. */
export function repositoryDir(prefix = "repo-"): string {
  const dir = mkdtempSync(join(TEST_REPOSITORIES, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Removes a server's data folder after ending its environments' sandboxes and unmounting their
 * disks: environments outlive the server by design, and removing a folder with a disk mounted
 * in it would fail.
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  await releaseAllEnvironments(join(dataDir, "environments"));
  rmSync(dataDir, { recursive: true, force: true });
}
