import type { EnvironmentLimits } from "../workspace";

/**
 * An environment class's limits, read from its configuration (`[{ key, value }]`):
 *   cpu        CPUs, e.g. "2" or "0.5"
 *   memory     bytes with a binary suffix, e.g. "2Gi", "512Mi"
 *   processes  how many processes (and threads) it may have at once
 *   disk       how large a single file may grow, e.g. "20Gi"
 * A key that is missing or unreadable takes the default, so a class made before a key
 * existed keeps working.
 */
export const DEFAULT_LIMITS: EnvironmentLimits = {
  cpus: 1,
  memoryBytes: 2 * 1024 ** 3,
  processes: 512,
  diskBytes: 20 * 1024 ** 3,
};

const UNITS: Record<string, number> = { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** "2Gi" → 2147483648; null when it is not a size. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?\s*$/.exec(text);
  if (match?.[1] === undefined) return null;
  const value = Number(match[1]) * (UNITS[match[2] ?? ""] ?? 1);
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : null;
}

/** 2147483648 → "2 GiB". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [["TiB", 1024 ** 4], ["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}

export function limitsFromConfiguration(configuration: string): EnvironmentLimits {
  let entries: unknown;
  try {
    entries = JSON.parse(configuration);
  } catch {
    return DEFAULT_LIMITS;
  }
  const value = (key: string): string | undefined => {
    if (!Array.isArray(entries)) return undefined;
    const entry: unknown = entries.find((candidate: unknown) => typeof candidate === "object" && candidate !== null && "key" in candidate && candidate.key === key);
    return typeof entry === "object" && entry !== null && "value" in entry && typeof entry.value === "string" ? entry.value : undefined;
  };
  const number = (text: string | undefined): number | null => {
    if (text === undefined) return null;
    const parsed = Number(text);
    return Number.isFinite(parsed) && parsed > 0 ? parsed : null;
  };
  const size = (text: string | undefined): number | null => (text === undefined ? null : parseSize(text));
  return {
    cpus: number(value("cpu")) ?? DEFAULT_LIMITS.cpus,
    memoryBytes: size(value("memory")) ?? DEFAULT_LIMITS.memoryBytes,
    processes: Math.floor(number(value("processes")) ?? DEFAULT_LIMITS.processes),
    diskBytes: size(value("disk")) ?? DEFAULT_LIMITS.diskBytes,
  };
}

/** One sentence a person reads in a class's description: "1 CPU, 2 GiB memory, 512 processes, 20 GiB per file". */
export function describeLimits(limits: EnvironmentLimits): string {
  return [
    `${limits.cpus} CPU${limits.cpus === 1 ? "" : "s"}`,
    `${formatSize(limits.memoryBytes)} memory`,
    `${limits.processes} processes`,
    `${formatSize(limits.diskBytes)} disk`,
  ].join(", ");
}
