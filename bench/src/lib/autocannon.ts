import { z } from "zod";
import { runChecked } from "./processes";
import { AUTOCANNON_BIN } from "./paths";

const AutocannonResult = z.object({
  duration: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  non2xx: z.number(),
  latency: z.object({ average: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
  requests: z.object({ average: z.number(), total: z.number() }),
});

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  averageLatency: number;
  total: number;
  /** Non-2xx answers, connection errors and timeouts: a run with any is reported as suspect. */
  failures: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  headers?: Record<string, string>;
}

/** autocannon in its own process (not in the benchmark's event loop), JSON out. */
export async function autocannon(options: LoadOptions): Promise<LoadResult> {
  const headerArgs = Object.entries(options.headers ?? {}).flatMap(([key, value]) => ["-H", `${key}=${value}`]);
  const { stdout } = await runChecked(process.execPath, [
    AUTOCANNON_BIN,
    "--json",
    "-n",
    "-c",
    String(options.connections),
    "-d",
    String(options.durationSeconds),
    ...headerArgs,
    options.url,
  ]);
  const line = stdout.trim().split("\n").pop() ?? "";
  const result = AutocannonResult.parse(JSON.parse(line));
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    averageLatency: result.latency.average,
    total: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}
