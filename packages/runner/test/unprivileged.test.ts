import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostProcessesWith } from "./helpers";

// A runner that is not root: the sandbox maps the runner's own uid, and its mount namespace
// hides everything else, files the runner itself may read included. The runner's isolation is
// bundled into one file and run as `nobody`, so nothing of the repository needs to be readable.

const NOBODY = 65534;
const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures/unprivileged-sandbox.ts");
let dir: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test starts a process as nobody, which needs root (as CI runs)");
  dir = mkdtempSync(join(tmpdir(), "ona-unprivileged-"));
  chmodSync(dir, 0o755);
  await build({ entryPoints: [fixture], outfile: join(dir, "driver.mjs"), bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" });
  mkdirSync(join(dir, "environments"));
  chownSync(join(dir, "environments"), NOBODY, NOBODY);
  // A file the runner's user may read, outside the environment: the sandbox must not show it.
  writeFileSync(join(dir, "runner-note.txt"), "only for the runner\n");
  chownSync(join(dir, "runner-note.txt"), NOBODY, NOBODY);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a sandbox made by a runner that is not root", () => {
  it("maps the runner's uid, hides the rest of the machine, and ends everything it ran", () => {
    const result = spawnSync(process.execPath, [join(dir, "driver.mjs"), join(dir, "environments"), join(dir, "runner-note.txt")], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: dir,
      encoding: "utf8",
      env: { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", HOME: dir },
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout) as {
      report: { properties: string[]; problem: string | null };
      uid: { stdout: string };
      workspace: { stdout: string };
      outside: { exitCode: number; stdout: string };
      root: { stdout: string };
      processes: { stdout: string };
      ended: { survivors: number[] };
    };
    expect(outcome.report.problem).toBeNull();
    expect(outcome.report.properties).toContain("users: the runner's own uid, mapped into each sandbox (the runner is not root)");
    expect(outcome.uid.stdout).toBe(`${NOBODY}\n`);
    expect(outcome.workspace.stdout).toBe("/workspace\n");
    expect(readFileSync(join(dir, "environments", "unprivileged1", "made.txt"), "utf8")).toBe("made\n");
    // The runner's user could read it; inside the sandbox it is not there at all.
    expect(outcome.outside.exitCode).not.toBe(0);
    expect(outcome.outside.stdout).toBe("");
    expect(outcome.root.stdout.split("\n").filter(Boolean).sort()).toEqual(["bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", "workspace"].filter((name) => existsSync(`/${name}`) || ["dev", "proc", "tmp", "workspace"].includes(name)).sort());
    expect(outcome.processes.stdout.trim().split(" ")).not.toContain("node");
    expect(outcome.ended.survivors).toEqual([]);
    expect(hostProcessesWith("300.25")).toEqual([]);
  });
});
