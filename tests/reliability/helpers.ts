import type { Environment } from "@ona/contracts";

/**
 * A small seeded generator (mulberry32), so that a run that found a problem can be repeated:
 * every suite prints its seed, and ONA_TEST_SEED=<seed> replays it.
 */
export interface Random {
  seed: number;
  /** In [0, 1). */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: readonly T[]): T[];
}

export function seededRandom(label: string): Random {
  const configured = Number(process.env.ONA_TEST_SEED);
  const seed = Number.isInteger(configured) && configured > 0 ? configured : Math.floor(Math.random() * 2 ** 31) + 1;
  console.info(`${label}: seed ${seed} (ONA_TEST_SEED=${seed} repeats this run)`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(0, items.length - 1)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = int(0, i);
        const a = copy[i];
        const b = copy[j];
        if (a === undefined || b === undefined) throw new Error("shuffle out of range");
        copy[i] = b;
        copy[j] = a;
      }
      return copy;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; then throws
 * with what `describe` says about the last state. A bound, not a fixed sleep: on a fast machine
 * it returns at once, on a loaded one it waits up to the (generous) limit.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; describe?: () => Promise<string> | string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const state = options.describe ? await options.describe() : "";
      throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${state ? `\n${state}` : ""}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Runs `body`; when it throws, the error carries `diagnostics()` (server output, rows) so a failure explains itself. */
export async function withDiagnostics<T>(body: () => Promise<T>, diagnostics: () => Promise<string> | string): Promise<T> {
  try {
    return await body();
  } catch (error) {
    let extra: string;
    try {
      extra = await diagnostics();
    } catch (diagnosticsError) {
      extra = `(collecting diagnostics failed: ${String(diagnosticsError)})`;
    }
    if (error instanceof Error) {
      error.message = `${error.message}\n\n----- diagnostics -----\n${extra}`;
      throw error;
    }
    throw new Error(`${String(error)}\n\n----- diagnostics -----\n${extra}`);
  }
}

/** The last `lines` lines of a long text. */
export function tail(text: string, lines = 200): string {
  const all = text.split("\n");
  return all.length <= lines ? text : `… (${all.length - lines} earlier lines left out)\n${all.slice(-lines).join("\n")}`;
}

export function environmentOf(data: unknown): Environment {
  const environment = (data as { environment?: Environment } | undefined)?.environment;
  if (environment === undefined) throw new Error(`not an environment response: ${JSON.stringify(data)}`);
  return environment;
}

export const PHASE = {
  CREATING: "ENVIRONMENT_PHASE_CREATING",
  STARTING: "ENVIRONMENT_PHASE_STARTING",
  RUNNING: "ENVIRONMENT_PHASE_RUNNING",
  STOPPING: "ENVIRONMENT_PHASE_STOPPING",
  STOPPED: "ENVIRONMENT_PHASE_STOPPED",
  DELETING: "ENVIRONMENT_PHASE_DELETING",
  DELETED: "ENVIRONMENT_PHASE_DELETED",
} as const;
