import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { ApiConfig } from "@ona/api";

/**
 * The server's configuration, read from the environment in this one place and validated.
 * A bad value stops start-up with a message naming the variable and what it expects.
 */
const boolean = (name: string) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: `${name} must be true or false` })
    .transform((value) => value === "true" || value === "1" || value === "yes");

const EnvSchema = z.object({
  PORT: z.coerce
    .number({ error: "PORT must be a port number" })
    .int("PORT must be a whole number")
    .min(0, "PORT must be between 0 and 65535")
    .max(65535, "PORT must be between 0 and 65535")
    .default(3000),
  HOST: z.string().min(1, "HOST must be an address to listen on").default("0.0.0.0"),
  ONA_DATA_DIR: z.string().min(1, "ONA_DATA_DIR must be a folder path").optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "DATABASE_URL must start with file: (SQLite) or postgresql:// (PostgreSQL)")
    .optional(),
  ONA_SECRET: z.string().min(32, "ONA_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)").optional(),
  ONA_PUBLIC_URL: z.url({ error: "ONA_PUBLIC_URL must be a URL like http://localhost:3000" }).optional(),
  ONA_TRUSTED_ORIGINS: z.string().optional(),
  ONA_TRUST_PROXY: boolean("ONA_TRUST_PROXY").default(false),
  ONA_TRUST_PROXY_HOPS: z.coerce
    .number({ error: "ONA_TRUST_PROXY_HOPS must be the number of proxies in front of the server" })
    .int("ONA_TRUST_PROXY_HOPS must be a whole number")
    .min(1, "ONA_TRUST_PROXY_HOPS must be at least 1")
    .max(10, "ONA_TRUST_PROXY_HOPS must be at most 10")
    .optional(),
  ONA_EMBEDDED_RUNNER: boolean("ONA_EMBEDDED_RUNNER").default(true),
  ONA_RUNNER_URL: z.url({ error: "ONA_RUNNER_URL must be the runner's URL, like http://127.0.0.1:3001" }).optional(),
  ONA_RUNNER_PORT: z.coerce.number({ error: "ONA_RUNNER_PORT must be a port number" }).int().min(0).max(65535).default(3001),
  ONA_RUNNER_LEASE_MS: z.coerce
    .number({ error: "ONA_RUNNER_LEASE_MS must be a number of milliseconds" })
    .int()
    .min(500, "ONA_RUNNER_LEASE_MS must be at least 500")
    .default(30_000),
  ONA_RUNTIME: z
    .enum(["sandbox", "host"], { error: "ONA_RUNTIME must be sandbox (the default) or host (single-user mode, no sandbox)" })
    .default("sandbox"),
  ONA_LOCAL_REPOSITORIES: z.string().optional(),
  ONA_SANDBOX_NETWORK: z
    .enum(["private", "shared"], { error: "ONA_SANDBOX_NETWORK must be private (the default) or shared (the host's network)" })
    .default("private"),
  ONA_SANDBOX_UIDS: z
    .string()
    .regex(/^\d+-\d+$/, "ONA_SANDBOX_UIDS must be a range of host uids like 400000-499999")
    .default("400000-499999"),
  ONA_AUTH_FAILURE_LIMIT: z.coerce.number({ error: "ONA_AUTH_FAILURE_LIMIT must be a number" }).int().min(1).default(30),
  ONA_AUTH_FAILURE_WINDOW_SECONDS: z.coerce
    .number({ error: "ONA_AUTH_FAILURE_WINDOW_SECONDS must be a number" })
    .int()
    .min(1)
    .default(300),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  environmentsDir: string;
  embeddedRunner: boolean;
  runnerUrl: string | null;
  runnerPort: number;
  /** How long a runner's claim on an environment lasts without renewal (a crashed runner's work waits this long). */
  runnerLeaseMs: number;
  /** Shared between the web server and a separate runner process for exec calls. */
  runnerSecret: string;
  /** How the runner isolates environments (for the embedded runner and `pnpm ona-runner`). */
  isolation: {
    runtime: "sandbox" | "host";
    /** Folders local repositories may be cloned from; never the data directory or the server's own folder. */
    localRepositories: string[];
    protectedDirs: string[];
    sandboxNetwork: "private" | "shared";
    sandboxUids: { first: number; count: number };
  };
  api: ApiConfig;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The repository root, from the built file (apps/web/dist) or the source (apps/web/src). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

/** The server secret: configured, or generated once into the data folder (mode 0600). */
function serverSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, "server-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return secret;
}

/** ONA_LOCAL_REPOSITORIES: absolute folders, comma-separated, none inside the data directory or the server's folder. */
function localRepositoriesOf(setting: string | undefined, protectedDirs: string[]): string[] {
  const dirs = (setting ?? "")
    .split(",")
    .map((dir) => dir.trim())
    .filter(Boolean);
  for (const dir of dirs) {
    if (!isAbsolute(dir)) throw new ConfigError(`invalid configuration:\n  ONA_LOCAL_REPOSITORIES: "${dir}" must be an absolute path`);
    const inside = protectedDirs.find((guarded) => isWithin(resolve(dir), guarded));
    if (inside !== undefined) {
      throw new ConfigError(`invalid configuration:\n  ONA_LOCAL_REPOSITORIES: "${dir}" is inside ${inside}, which environments may never read`);
    }
  }
  return dirs.map((dir) => resolve(dir));
}

function isWithin(path: string, parent: string): boolean {
  const rel = relative(parent, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const values = parsed.data;
  const root = repoRoot();
  const dataDirSetting = values.ONA_DATA_DIR ?? ".ona-data";
  const dataDir = isAbsolute(dataDirSetting) ? dataDirSetting : resolve(root, dataDirSetting);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(`ONA_DATA_DIR: cannot create ${dataDir} (${(error as Error).message})`);
  }
  const databaseUrl = values.DATABASE_URL ?? `file:${join(dataDir, "ona.db")}`;
  const protectedDirs = [dataDir, root];
  // In single-user mode the one user may clone from their own home by default; otherwise nothing.
  const localRepositories = localRepositoriesOf(values.ONA_LOCAL_REPOSITORIES ?? (values.ONA_RUNTIME === "host" ? homedir() : undefined), protectedDirs);
  const [firstUid = 0, lastUid = 0] = values.ONA_SANDBOX_UIDS.split("-").map(Number);
  if (firstUid < 1000 || lastUid < firstUid || lastUid > 2 ** 31 - 2) {
    throw new ConfigError("invalid configuration:\n  ONA_SANDBOX_UIDS: the range must start at 1000 or above and end after it, like 400000-499999");
  }
  if (values.ONA_TRUST_PROXY_HOPS !== undefined && !values.ONA_TRUST_PROXY) {
    throw new ConfigError("invalid configuration:\n  ONA_TRUST_PROXY_HOPS: only means something with ONA_TRUST_PROXY=true");
  }
  const secret = serverSecret(values.ONA_SECRET, dataDir);
  const publicUrl = (values.ONA_PUBLIC_URL ?? `http://localhost:${values.PORT}`).replace(/\/+$/, "");
  const trustedOrigins = [
    `http://localhost:${values.PORT}`,
    `http://127.0.0.1:${values.PORT}`,
    ...(values.ONA_TRUSTED_ORIGINS?.split(",").map((origin) => origin.trim()).filter(Boolean) ?? []),
  ];
  return {
    port: values.PORT,
    host: values.HOST,
    dataDir,
    databaseUrl,
    environmentsDir: join(dataDir, "environments"),
    embeddedRunner: values.ONA_EMBEDDED_RUNNER,
    runnerUrl: values.ONA_RUNNER_URL ?? null,
    runnerPort: values.ONA_RUNNER_PORT,
    runnerLeaseMs: values.ONA_RUNNER_LEASE_MS,
    runnerSecret: createHmac("sha256", secret).update("ona runner exec").digest("hex"),
    isolation: {
      runtime: values.ONA_RUNTIME,
      localRepositories,
      protectedDirs,
      sandboxNetwork: values.ONA_SANDBOX_NETWORK,
      sandboxUids: { first: firstUid, count: lastUid - firstUid + 1 },
    },
    api: {
      repositorySources: { localRepositories, forbidden: protectedDirs },
      serverSecret: secret,
      publicUrl,
      trustedOrigins,
      trustedProxyHops: values.ONA_TRUST_PROXY ? (values.ONA_TRUST_PROXY_HOPS ?? 1) : 0,
      authFailureLimit: values.ONA_AUTH_FAILURE_LIMIT,
      authFailureWindowSeconds: values.ONA_AUTH_FAILURE_WINDOW_SECONDS,
    },
  };
}
