import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repositoryDir } from "./repositories";

/** A real git repository under TEST_REPOSITORIES, with the given files committed on `main`. */
export function makeRepository(files: Record<string, string> = { "README.md": "# demo\n" }): string {
  const dir = repositoryDir();
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      stdio: "ignore",
      env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" },
    });
  git("init", "-q", "-b", "main");
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    if (path.endsWith(".sh")) chmodSync(full, 0o755);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return dir;
}
