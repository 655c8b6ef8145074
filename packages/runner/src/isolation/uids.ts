import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errnoOf } from "../errors";

/**
 * Host user ids for environments, one each, when the runner runs as root (like systemd's
 * DynamicUser): an environment's files and processes then belong to a uid that owns nothing
 * else on the machine, so even outside its mount namespace it could not read the server's
 * files or another environment's, and RLIMIT_NPROC (counted per uid) bounds it alone.
 *
 * A uid is taken by creating `<dir>/<uid>` exclusively (O_EXCL), which is atomic across the
 * runner processes that share the folder; the file names the environment, and the
 * environment's own note (`<state>/uid`) names the uid. Both go when the environment is removed.
 */
export interface UidRange {
  first: number;
  count: number;
}

export const DEFAULT_UID_RANGE: UidRange = { first: 400_000, count: 100_000 };

export class UidAllocator {
  constructor(
    private readonly dir: string,
    private readonly range: UidRange,
  ) {}

  /** The environment's uid, taking a free one the first time. */
  uidFor(environmentId: string, stateDir: string): number {
    const note = join(stateDir, "uid");
    const recorded = readNumber(note);
    if (recorded !== null && this.owner(recorded) === environmentId) return recorded;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // Start at a spot derived from the id, so concurrent allocations rarely collide.
    const start = [...environmentId].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) >>> 0, 7) % this.range.count;
    for (let step = 0; step < this.range.count; step++) {
      const uid = this.range.first + ((start + step) % this.range.count);
      try {
        writeFileSync(join(this.dir, String(uid)), `${environmentId}\n`, { flag: "wx", mode: 0o600 });
      } catch (error) {
        if (errnoOf(error) === "EEXIST") continue;
        throw error;
      }
      writeFileSync(note, `${uid}\n`, { mode: 0o600 });
      return uid;
    }
    throw new Error(`every uid from ${this.range.first} to ${this.range.first + this.range.count - 1} is taken by an environment; delete some`);
  }

  /** The uid the environment has, if any. */
  existing(environmentId: string, stateDir: string): number | null {
    const recorded = readNumber(join(stateDir, "uid"));
    return recorded !== null && this.owner(recorded) === environmentId ? recorded : null;
  }

  release(environmentId: string, stateDir: string): void {
    const recorded = readNumber(join(stateDir, "uid"));
    if (recorded !== null && this.owner(recorded) === environmentId) rmSync(join(this.dir, String(recorded)), { force: true });
    rmSync(join(stateDir, "uid"), { force: true });
  }

  /** Every uid handed out, for tests and tools. */
  allocated(): number[] {
    try {
      return readdirSync(this.dir).filter((name) => /^\d+$/.test(name)).map(Number);
    } catch {
      return [];
    }
  }

  private owner(uid: number): string | null {
    try {
      return readFileSync(join(this.dir, String(uid)), "utf8").trim();
    } catch {
      return null;
    }
  }
}

function readNumber(file: string): number | null {
  try {
    const value = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}
