// @ts-check
import { defineConfig } from "vitest/config";

/**
 * The shared test presets (plain JavaScript, so vitest can load them from a config file).
 * Unit: node environment, tests import what they use.
 * Integration: suites that start servers, databases and processes; two cores do not like
 * many at once, and they get generous hook timeouts.
 * @param {import("vitest/config").ViteUserConfig["test"]} [overrides]
 */
export function unitConfig(overrides = {}) {
  return defineConfig({
    test: { environment: "node", include: ["src/**/*.test.ts", "test/**/*.test.ts"], testTimeout: 10_000, ...overrides },
  });
}

/** @param {import("vitest/config").ViteUserConfig["test"]} [overrides] */
export function integrationConfig(overrides = {}) {
  return defineConfig({
    test: { environment: "node", testTimeout: 60_000, hookTimeout: 120_000, maxWorkers: 2, ...overrides },
  });
}
