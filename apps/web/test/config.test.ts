import { mkdtempSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";

const dataDir = () => mkdtempSync(join(tmpdir(), "ona-config-"));

describe("server configuration", () => {
  it("defaults to port 3000 and a SQLite file in the data folder", () => {
    const dir = dataDir();
    const config = loadConfig({ ONA_DATA_DIR: dir });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBe(`file:${join(dir, "ona.db")}`);
    expect(config.environmentsDir).toBe(join(dir, "environments"));
    expect(config.api.publicUrl).toBe("http://localhost:3000");
    expect(config.embeddedRunner).toBe(true);
  });

  it("generates the server secret once, with mode 0600, and keeps it", () => {
    const dir = dataDir();
    const first = loadConfig({ ONA_DATA_DIR: dir });
    const file = join(dir, "server-secret");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toBe(first.api.serverSecret);
    expect(loadConfig({ ONA_DATA_DIR: dir }).api.serverSecret).toBe(first.api.serverSecret);
  });

  it("derives a runner secret that is not the server secret", () => {
    const config = loadConfig({ ONA_DATA_DIR: dataDir(), ONA_SECRET: "x".repeat(40) });
    expect(config.runnerSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(config.runnerSecret).not.toContain(config.api.serverSecret);
  });

  it("trusts no proxy unless told, one hop when told, and the configured hops", () => {
    expect(loadConfig({ ONA_DATA_DIR: dataDir() }).api.trustedProxyHops).toBe(0);
    expect(loadConfig({ ONA_DATA_DIR: dataDir(), ONA_TRUST_PROXY: "true" }).api.trustedProxyHops).toBe(1);
    expect(loadConfig({ ONA_DATA_DIR: dataDir(), ONA_TRUST_PROXY: "true", ONA_TRUST_PROXY_HOPS: "2" }).api.trustedProxyHops).toBe(2);
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ ONA_SECRET: "short" }, "ONA_SECRET"],
    [{ ONA_TRUST_PROXY: "maybe" }, "ONA_TRUST_PROXY"],
    [{ ONA_TRUST_PROXY: "true", ONA_TRUST_PROXY_HOPS: "0" }, "ONA_TRUST_PROXY_HOPS"],
    [{ ONA_TRUST_PROXY_HOPS: "2" }, "ONA_TRUST_PROXY_HOPS"],
    [{ ONA_PUBLIC_URL: "not a url" }, "ONA_PUBLIC_URL"],
    [{ ONA_EMBEDDED_RUNNER: "sometimes" }, "ONA_EMBEDDED_RUNNER"],
  ])("refuses %o with a message naming %s", (env, name) => {
    expect(() => loadConfig({ ONA_DATA_DIR: dataDir(), ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ONA_DATA_DIR: dataDir(), ...env })).toThrow(new RegExp(`${name}: `));
  });
});
