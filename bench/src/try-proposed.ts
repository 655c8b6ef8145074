// `pnpm --filter @ona/bench proposed [bench options]`: the "after" numbers. Copies the work tree
// (sources only; node_modules linked, .next shared), applies bench/proposed/*.patch there with
// `git apply`, rebuilds the server and CLI bundles in the copy, and runs the benchmarks in it.
// The results land in bench/.work/results-proposed.md; the work tree itself is not touched.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BENCH_DIR, REPO_ROOT } from "./lib/paths";

const EXCLUDED = [/^node_modules$/, /(^|\/)\.next$/, /(^|\/)dist$/, /^\.git$/, /(^|\/)\.turbo$/, /^bench\/\.work$/, /^\.ona-data$/];

const copy = mkdtempSync(join(tmpdir(), "ona-proposed-"));
console.error(`copying the work tree to ${copy}`);
cpSync(REPO_ROOT, copy, {
  recursive: true,
  verbatimSymlinks: true,
  filter: (source) => {
    const path = relative(REPO_ROOT, source);
    return path === "" || !EXCLUDED.some((pattern) => pattern.test(path));
  },
});
// Third-party packages are shared; workspace links inside the packages' node_modules are relative, so they point into the copy.
rmSync(join(copy, "bench/results.md"), { force: true });
symlinkSync(join(REPO_ROOT, "node_modules"), join(copy, "node_modules"));
symlinkSync(join(REPO_ROOT, "apps/web/.next"), join(copy, "apps/web/.next"));

const patches = readdirSync(join(BENCH_DIR, "proposed"))
  .filter((name) => name.endsWith(".patch"))
  .sort();
for (const patch of patches) {
  console.error(`applying ${patch}`);
  execFileSync("git", ["apply", "-p1", join(BENCH_DIR, "proposed", patch)], { cwd: copy, stdio: "inherit" });
}
// The patched packages must still typecheck.
const touched = new Set(
  patches.flatMap((patch) =>
    [...readFileSync(join(BENCH_DIR, "proposed", patch), "utf8").matchAll(/^\+\+\+ b\/((?:apps|packages)\/[^/]+)\//gm)].map((match) => match[1] ?? ""),
  ),
);
for (const dir of [...touched].filter(Boolean)) {
  console.error(`typechecking ${dir}`);
  execFileSync(join(copy, dir, "node_modules/.bin/tsc"), ["-p", "."], { cwd: join(copy, dir), stdio: "inherit" });
}
console.error("building the server and CLI bundles in the copy");
execFileSync(process.execPath, ["scripts/build-server.mjs"], { cwd: join(copy, "apps/web"), stdio: "inherit" });
execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: join(copy, "packages/cli"), stdio: "inherit" });

const tsx = join(copy, "bench/node_modules/tsx/dist/cli.mjs");
const result = spawnSync(process.execPath, [tsx, "src/main.ts", ...process.argv.slice(2)], { cwd: join(copy, "bench"), stdio: "inherit" });
const written = [join(copy, "bench/results.md"), join(copy, "bench/.work/results-partial.md")].find((file) => existsSync(file));
if (written) {
  mkdirSync(join(BENCH_DIR, ".work"), { recursive: true });
  cpSync(written, join(BENCH_DIR, ".work/results-proposed.md"));
  console.error(`with the proposed patches: ${join(BENCH_DIR, ".work/results-proposed.md")}`);
}
if (!process.env.ONA_KEEP_PROPOSED_COPY) rmSync(copy, { recursive: true, force: true });
process.exitCode = result.status ?? 1;
