import pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { DatabaseProvider } from "@ona/db";

/**
 * Counts failed authentications per client address. Only failures count, and only the failing
 * address is slowed down, so an attacker cannot lock a valid token out from elsewhere.
 * Memory store for the single-process setup; PostgreSQL store when several servers share a database.
 */
export interface AuthFailureLimiter {
  /** Seconds to wait when the address is over its limit, else null. */
  retryAfter(address: string): Promise<number | null>;
  recordFailure(address: string): Promise<void>;
  close(): Promise<void>;
}

export async function createAuthFailureLimiter(options: {
  provider: DatabaseProvider;
  databaseUrl: string;
  points: number;
  durationSeconds: number;
}): Promise<AuthFailureLimiter> {
  const common = { points: options.points, duration: options.durationSeconds, keyPrefix: "auth_fail" };
  let limiter: RateLimiterAbstract;
  let pool: pg.Pool | null = null;
  if (options.provider === "postgresql") {
    pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
    const created = pool;
    limiter = await new Promise<RateLimiterAbstract>((resolve, reject) => {
      const store: RateLimiterPostgres = new RateLimiterPostgres(
        { ...common, storeClient: created, storeType: "pool", tableName: "rate_limit_auth_failure", clearExpiredByTimeout: true },
        (error?: Error) => (error ? reject(error) : resolve(store)),
      );
    });
  } else {
    limiter = new RateLimiterMemory(common);
  }
  // Addresses this process saw fail within the window → when they last failed. The shared store
  // is read only for them: a request from a clean address costs no query, and an address that
  // failed only on other servers is refused here from its first failure in this process on.
  const recentFailures = new Map<string, number>();
  const windowMs = options.durationSeconds * 1000;
  return {
    async retryAfter(address) {
      if (pool !== null) {
        const failedAt = recentFailures.get(address);
        if (failedAt === undefined || Date.now() - failedAt > windowMs) return null;
      }
      const state = await limiter.get(address);
      if (!state || state.consumedPoints < options.points) return null;
      return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    },
    async recordFailure(address) {
      if (recentFailures.size >= 10_000) recentFailures.clear();
      recentFailures.set(address, Date.now());
      try {
        await limiter.consume(address);
      } catch (rejection) {
        // Over the limit already: consume rejects with the limiter's state, which is expected.
        if (rejection instanceof Error) throw rejection;
      }
    },
    async close() {
      await pool?.end();
    },
  };
}
