import { StringDecoder } from "node:string_decoder";
import type { Db } from "@ona/db";
import { messageOf } from "./errors";
import type { Clock, RunnerLogger } from "./logger";

export type LogStream = "system" | "stdout" | "stderr";

/** A line longer than this is cut: a minified bundle printed by a build is not worth a megabyte row. */
export const MAX_LOG_LINE_CHARS = 8 * 1024;
/** Output lines kept per writer (one claim on an environment); a setup printing more keeps its first ones and a note. */
export const MAX_LOG_LINES_PER_STEP = 20_000;
const FLUSH_DELAY_MS = 100;
const FLUSH_BATCH = 200;

interface PendingLine {
  environmentId: string;
  at: Date;
  stream: LogStream;
  text: string;
}

export interface LineSink {
  /** Feeds raw output; complete lines are logged, a partial one waits for the rest. */
  write(chunk: Buffer): void;
  /** Logs whatever partial line is left. */
  end(): void;
}

/**
 * Appends an environment's log lines (EnvironmentLog rows) in order, batched so that a chatty
 * setup costs one insert per ~100 ms instead of one per line. Writes are chained, so rows get
 * ids in the order the lines were produced, which is the order the API reads them in.
 */
export class EnvironmentLogWriter {
  private pending: PendingLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private kept = 0;
  private droppedNoted = false;

  constructor(
    private readonly db: Db,
    private readonly environmentId: string,
    private readonly clock: Clock,
    private readonly logger: RunnerLogger,
  ) {}

  /**
   * The runner's own line. Stored at once rather than batched: it often announces a step the
   * process may not come back from (await flush() where it must be stored before going on).
   */
  system(text: string): void {
    this.add("system", text);
    void this.flush();
  }

  /** A sink for one output stream of a process. */
  lines(stream: "stdout" | "stderr"): LineSink {
    const decoder = new StringDecoder("utf8");
    let partial = "";
    const emit = (text: string): void => {
      const parts = (partial + text).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) this.add(stream, line);
      // A process printing one endless line must not grow memory without limit.
      if (partial.length > MAX_LOG_LINE_CHARS) {
        this.add(stream, partial);
        partial = "";
      }
    };
    return {
      write: (chunk) => emit(decoder.write(chunk)),
      end: () => {
        emit(decoder.end());
        if (partial !== "") this.add(stream, partial);
        partial = "";
      },
    };
  }

  /** Resolves once every line given so far is stored. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.chain = this.chain.then(() => this.insert(batch));
    }
    return this.chain;
  }

  private add(stream: LogStream, raw: string): void {
    if (this.kept >= MAX_LOG_LINES_PER_STEP && stream !== "system") {
      if (!this.droppedNoted) {
        this.droppedNoted = true;
        this.push("system", `… more output than ${MAX_LOG_LINES_PER_STEP} lines; the rest of this step's output is not kept`);
      }
      return;
    }
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    this.push(stream, text.length > MAX_LOG_LINE_CHARS ? `${text.slice(0, MAX_LOG_LINE_CHARS)}…` : text);
    if (stream !== "system") this.kept++;
  }

  private push(stream: LogStream, text: string): void {
    this.pending.push({ environmentId: this.environmentId, at: this.clock(), stream, text });
    if (this.pending.length >= FLUSH_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  private async insert(batch: PendingLine[]): Promise<void> {
    try {
      await this.db.environmentLog.createMany({ data: batch });
    } catch (error) {
      // Losing log lines must not fail the step that produced them; the runner's own log says so.
      this.logger.warn("could not store environment log lines", {
        environmentId: this.environmentId,
        lines: batch.length,
        error: messageOf(error),
      });
    }
  }
}
