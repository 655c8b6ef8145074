import type { ViteUserConfig } from "vitest/config";

export function unitConfig(overrides?: ViteUserConfig["test"]): ViteUserConfig;
export function integrationConfig(overrides?: ViteUserConfig["test"]): ViteUserConfig;
