import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where things are, from this file (bench/src/lib). */
export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const REPO_ROOT = resolve(BENCH_DIR, "..");
export const SERVER_ENTRY = join(REPO_ROOT, "apps/web/dist/server.js");
export const ADMIN_ENTRY = join(REPO_ROOT, "apps/web/dist/admin.js");
export const NEXT_DIR = join(REPO_ROOT, "apps/web/.next");
export const CLI_BIN = join(REPO_ROOT, "packages/cli/dist/ona.js");
export const BENCH_DIST = join(BENCH_DIR, "dist");
export const RESULTS_FILE = join(BENCH_DIR, "results.md");
export const AUTOCANNON_BIN = join(BENCH_DIR, "node_modules/autocannon/autocannon.js");
