// @ts-check
import { basename, join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * The shared test presets (plain JavaScript, so vitest can load them from a config file).
 * Unit: node environment, tests import what they use.
 * Integration: suites that start servers, databases and processes; two cores do not like
 * many at once, and they get generous hook timeouts.
 * When ONA_TEST_REPORT_DIR is set (the README's test command sets it), each run also writes a
 * JSON report there, which the command adds up into one closing line.
 */
function reporters() {
  const dir = process.env.ONA_TEST_REPORT_DIR;
  if (!dir) return {};
  const name = `${basename(process.cwd())}-${process.env.ONA_TEST_DB ?? "sqlite"}.json`;
  return { reporters: ["default", ["json", { outputFile: join(dir, name) }]] };
}

/** @param {import("vitest/config").ViteUserConfig["test"]} [overrides] */
export function unitConfig(overrides = {}) {
  return defineConfig({
    test: {
      environment: "node",
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: 10_000,
      ...reporters(),
      ...overrides,
    },
  });
}

/** @param {import("vitest/config").ViteUserConfig["test"]} [overrides] */
export function integrationConfig(overrides = {}) {
  return defineConfig({
    test: { environment: "node", testTimeout: 60_000, hookTimeout: 120_000, maxWorkers: 2, ...reporters(), ...overrides },
  });
}
