import { CliError, ExitCode } from "./errors";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90` (seconds), `90s`, `5m`, `1h`, `1m30s`, `500ms` → milliseconds. */
export function parseDuration(text: string, flag = "--timeout"): number {
  const trimmed = text.trim();
  const bare = /^\d+(\.\d+)?$/.test(trimmed);
  const parts = bare ? [] : [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((part) => part[0]).join("");
  if (!bare && (parts.length === 0 || consumed !== trimmed)) {
    throw new CliError(`${flag} "${text}" is not a duration`, ExitCode.USAGE, `use seconds or a unit, e.g. ${flag} 90s, ${flag} 5m, ${flag} 1h`);
  }
  const total = bare ? Number(trimmed) * 1000 : parts.reduce((sum, part) => sum + Number(part[1]) * (UNIT_MS[part[2] ?? "s"] ?? 1000), 0);
  if (total <= 0) throw new CliError(`${flag} must be longer than zero`, ExitCode.USAGE);
  return Math.round(total);
}
