import pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { DatabaseProvider } from "@ona/db";

/**
 * Counts failed authentications per client address. Only failures count, and only the failing
 * address is slowed down, so an attacker cannot lock a valid token out from elsewhere.
 *
 * Two counts, because refusing garbage must cost the database nothing:
 * - this process's count, in memory: every failure, including credentials refused before any
 *   lookup (a malformed header or token);
 * - the shared count, in PostgreSQL when several servers share a database: failures of tokens
 *   that reached the lookup, so guesses spread over servers are counted together.
 * With SQLite (one process) the memory count is the only one and counts both.
 * An address is refused once either count reaches the limit.
 */
export interface AuthFailureLimiter {
  /**
   * Seconds to wait when the address is over its limit, else null. Without `includeShared`
   * only this process's count is read (no database); with it, the shared count too.
   */
  retryAfter(address: string, options: { includeShared: boolean }): Promise<number | null>;
  /** Counts a failure: in this process always, in the shared count when `shared` (the token reached the lookup). */
  recordFailure(address: string, options: { shared: boolean }): Promise<void>;
  close(): Promise<void>;
}

const secondsOf = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Records a failure; consume rejects with the limiter's state once over the limit, which is expected. */
async function consume(limiter: RateLimiterAbstract, address: string): Promise<void> {
  try {
    await limiter.consume(address);
  } catch (rejection) {
    if (rejection instanceof Error) throw rejection;
  }
}

async function retryAfterIn(limiter: RateLimiterAbstract, address: string, points: number): Promise<number | null> {
  const state = await limiter.get(address);
  if (!state || state.consumedPoints < points) return null;
  return secondsOf(state.msBeforeNext);
}

export async function createAuthFailureLimiter(options: {
  provider: DatabaseProvider;
  databaseUrl: string;
  points: number;
  durationSeconds: number;
}): Promise<AuthFailureLimiter> {
  const common = { points: options.points, duration: options.durationSeconds, keyPrefix: "auth_fail" };
  const local = new RateLimiterMemory(common);
  let shared: RateLimiterAbstract | null = null;
  let pool: pg.Pool | null = null;
  if (options.provider === "postgresql") {
    pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
    const created = pool;
    shared = await new Promise<RateLimiterAbstract>((resolve, reject) => {
      const store: RateLimiterPostgres = new RateLimiterPostgres(
        { ...common, storeClient: created, storeType: "pool", tableName: "rate_limit_auth_failure", clearExpiredByTimeout: true },
        (error?: Error) => (error ? reject(error) : resolve(store)),
      );
    });
  }
  // Addresses this process saw fail a lookup within the window → when. The shared store is read
  // only for them: a request from a clean address costs no query, and an address that failed
  // only on other servers is refused here from its first failure in this process on.
  const recentSharedFailures = new Map<string, number>();
  const windowMs = options.durationSeconds * 1000;
  return {
    async retryAfter(address, { includeShared }) {
      const here = await retryAfterIn(local, address, options.points);
      if (here !== null || !includeShared || shared === null) return here;
      const failedAt = recentSharedFailures.get(address);
      if (failedAt === undefined || Date.now() - failedAt > windowMs) return null;
      return retryAfterIn(shared, address, options.points);
    },
    async recordFailure(address, { shared: countShared }) {
      await consume(local, address);
      if (!countShared || shared === null) return;
      if (recentSharedFailures.size >= 10_000) recentSharedFailures.clear();
      recentSharedFailures.set(address, Date.now());
      await consume(shared, address);
    },
    async close() {
      await pool?.end();
    },
  };
}
