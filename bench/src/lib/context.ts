import type { SectionResult } from "./report";

export interface BenchContext {
  /** Shorter runs for development; the written results come from a full run. */
  quick: boolean;
  /** Seconds of each measured load run (autocannon). */
  loadSeconds: number;
  /** Seconds of the warm-up before each load run. */
  warmupSeconds: number;
  log(message: string): void;
}

export interface Benchmark {
  id: string;
  title: string;
  run(context: BenchContext): Promise<SectionResult>;
}
