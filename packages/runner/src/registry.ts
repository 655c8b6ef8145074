import type { Db } from "@ona/db";
import type { IsolationReport } from "./isolation";
import { describeLimits, limitsFromConfiguration } from "./isolation/limits";
import type { Clock } from "./logger";
import { notAtDesiredPhase } from "./phases";

export interface SeedClass {
  suffix: string;
  displayName: string;
  /** The class's configuration: its limits (see isolation/limits.ts for the keys). */
  limits: { cpu: string; memory: string; processes: string; disk: string };
}

/** The classes a local runner offers on first start; ids are `<runnerId>-<suffix>` (local-small, local-large). */
export const LOCAL_CLASSES: SeedClass[] = [
  { suffix: "small", displayName: "Small", limits: { cpu: "1", memory: "2Gi", processes: "512", disk: "20Gi" } },
  { suffix: "large", displayName: "Large", limits: { cpu: "2", memory: "8Gi", processes: "2048", disk: "50Gi" } },
];

export function classId(runnerId: string, seed: SeedClass): string {
  return `${runnerId}-${seed.suffix}`;
}

/**
 * Records the runner (or refreshes its heartbeat) and, when it has no classes yet, seeds its
 * classes. "No classes yet" rather than "the row was just created" so that a first start cut
 * short between the two writes still ends with classes; an administrator's changes to seeded
 * classes (disabled, renamed) are never overwritten.
 */
export async function registerRunner(
  db: Db,
  runner: { id: string; name: string; kind: string; isolation?: IsolationReport },
  clock: Clock,
): Promise<void> {
  const now = clock();
  const isolation = runner.isolation === undefined ? {} : { isolation: JSON.stringify(runner.isolation) };
  const updated = await db.runner.updateMany({ where: { id: runner.id }, data: { lastHeartbeatAt: now, ...isolation } });
  if (updated.count === 0) {
    await ignoringDuplicates(db.runner.create({ data: { id: runner.id, name: runner.name, kind: runner.kind, lastHeartbeatAt: now, ...isolation } }));
  }
  if ((await db.environmentClass.count({ where: { runnerId: runner.id } })) === 0) {
    await ignoringDuplicates(
      db.environmentClass.createMany({
        data: LOCAL_CLASSES.map((seed, position) => ({
          id: classId(runner.id, seed),
          runnerId: runner.id,
          displayName: seed.displayName,
          description: describeLimits(limitsFromConfiguration(configurationOf(seed))),
          configuration: configurationOf(seed),
          enabled: true,
          position,
        })),
      }),
    );
  }
}

function configurationOf(seed: SeedClass): string {
  return JSON.stringify(Object.entries(seed.limits).map(([key, value]) => ({ key, value })));
}

/** Another process starting at the same moment may have written the same rows; theirs are as good. */
async function ignoringDuplicates(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    // P2002: unique constraint (checked by code: the two providers' clients have distinct error classes).
    if (typeof error === "object" && error !== null && "code" in error && error.code === "P2002") return;
    throw error;
  }
}

export async function recordHeartbeat(db: Db, runnerId: string, clock: Clock): Promise<boolean> {
  const result = await db.runner.updateMany({ where: { id: runnerId }, data: { lastHeartbeatAt: clock() } });
  return result.count === 1;
}

export interface MarkSilentRunnersOptions {
  db: Db;
  clock: Clock;
  /** A runner without a heartbeat for this long counts as gone. */
  staleAfterMs: number;
}

/**
 * For environments still on their way to the desired phase whose runner has not sent a
 * heartbeat within `staleAfterMs`, sets a failure message that says so and what to do, so
 * that a user waiting on them learns why nothing happens. Each is marked once (only while
 * it has no other failure message); the runner clears it when it takes the environment up
 * again. The environment is not marked as failed: the runner works on it as soon as it is back.
 * Returns the ids marked by this call.
 */
export async function markEnvironmentsOfSilentRunners(options: MarkSilentRunnersOptions): Promise<string[]> {
  const { db } = options;
  const now = options.clock();
  const pendingFilter = (runnerId?: string) => ({
    OR: notAtDesiredPhase(runnerId),
    failureMessage: "[]",
    AND: [{ OR: [{ failedSpecVersion: null }, { failedSpecVersion: { lt: db.environment.fields.specVersion } }] }],
  });
  const runnerIds = (
    await db.environment.findMany({ where: pendingFilter(), select: { runnerId: true }, distinct: ["runnerId"] })
  ).map((row) => row.runnerId);
  if (runnerIds.length === 0) return [];
  const runners = await db.runner.findMany({ where: { id: { in: runnerIds } }, select: { id: true, lastHeartbeatAt: true } });

  const marked: string[] = [];
  for (const runnerId of runnerIds) {
    const runner = runners.find((candidate) => candidate.id === runnerId);
    const lastSeen = runner?.lastHeartbeatAt ?? null;
    if (lastSeen !== null && now.getTime() - lastSeen.getTime() < options.staleAfterMs) continue;
    const silence =
      runner === undefined
        ? `runner ${runnerId} is not registered`
        : lastSeen === null
          ? `runner ${runnerId} has never reported`
          : `runner ${runnerId} has not reported for ${formatDuration(now.getTime() - lastSeen.getTime())}`;
    const message = `${silence}; start the runner (pnpm ona-runner) or check its logs`;
    const ids = (await db.environment.findMany({ where: pendingFilter(runnerId), select: { id: true } })).map((row) => row.id);
    if (ids.length === 0) continue;
    // Conditional on the message still being empty: a concurrent runner's failure wins.
    await db.environment.updateMany({
      where: { id: { in: ids }, failureMessage: "[]" },
      data: { failureMessage: JSON.stringify([message]) },
    });
    marked.push(...ids);
  }
  return marked;
}

/** "45 s", "2 min", "3 h", "2 days": how long, as a person would say it. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}
