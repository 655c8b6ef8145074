import type { Db } from "@ona/db";
import type { Clock } from "./logger";

/**
 * The reconciler's claim on one environment: `leaseOwner` names the runner process working
 * on it and `leaseExpiresAt` says until when. Every write here is a single conditional UPDATE,
 * which is atomic on SQLite and PostgreSQL alike, so two processes can never both believe they
 * hold the same environment. A process that dies simply stops renewing; once the lease has
 * expired another one takes it over.
 */
export class Leases {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly owner: string,
    readonly leaseMs: number,
  ) {}

  /**
   * Takes the environment when its lease is free, expired or already ours, and it has not
   * failed at its current spec version. Starting to work on it makes older failure messages
   * (a failed earlier attempt, "runner has not reported") stale, so they are cleared here.
   */
  async claim(environmentId: string, runnerId: string): Promise<boolean> {
    const now = this.clock();
    const result = await this.db.environment.updateMany({
      where: {
        id: environmentId,
        runnerId,
        AND: [this.claimableFilter(now), this.notFailedFilter()],
      },
      data: { leaseOwner: this.owner, leaseExpiresAt: this.expiry(now), failureMessage: "[]" },
    });
    return result.count === 1;
  }

  /** Extends our lease; false when it is no longer ours (it expired and someone took it). */
  async renew(environmentId: string): Promise<boolean> {
    const result = await this.db.environment.updateMany({
      where: { id: environmentId, leaseOwner: this.owner },
      data: { leaseExpiresAt: this.expiry(this.clock()) },
    });
    return result.count === 1;
  }

  async release(environmentId: string): Promise<void> {
    await this.db.environment.updateMany({
      where: { id: environmentId, leaseOwner: this.owner },
      data: { leaseOwner: null, leaseExpiresAt: null },
    });
  }

  /** The filter for environments another process is not working on right now. */
  claimableFilter(now: Date) {
    return { OR: [{ leaseOwner: null }, { leaseOwner: this.owner }, { leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }] };
  }

  /** The filter for environments whose current spec version has not failed (a failure waits for the user). */
  notFailedFilter() {
    return { OR: [{ failedSpecVersion: null }, { failedSpecVersion: { lt: this.db.environment.fields.specVersion } }] };
  }

  private expiry(now: Date): Date {
    return new Date(now.getTime() + this.leaseMs);
  }
}
