import type { EnvironmentPhase } from "@ona/contracts";
import type { Prisma } from "@ona/db";

export const Phase = {
  UNSPECIFIED: "ENVIRONMENT_PHASE_UNSPECIFIED",
  CREATING: "ENVIRONMENT_PHASE_CREATING",
  STARTING: "ENVIRONMENT_PHASE_STARTING",
  RUNNING: "ENVIRONMENT_PHASE_RUNNING",
  UPDATING: "ENVIRONMENT_PHASE_UPDATING",
  STOPPING: "ENVIRONMENT_PHASE_STOPPING",
  STOPPED: "ENVIRONMENT_PHASE_STOPPED",
  DELETING: "ENVIRONMENT_PHASE_DELETING",
  DELETED: "ENVIRONMENT_PHASE_DELETED",
} as const satisfies Record<string, EnvironmentPhase>;

/** The phases in which the runner does work (runs processes, touches the folder). */
export type WorkPhase = typeof Phase.CREATING | typeof Phase.STARTING | typeof Phase.STOPPING | typeof Phase.DELETING;

/**
 * The next thing to do for an environment, from its observed and desired phase:
 * - `enter`: one phase change without work (e.g. RUNNING → STOPPING when a stop is wanted);
 * - `work`: do the work of the phase it is in, then leave it (CREATING clones, STARTING runs
 *   the setup, STOPPING ends processes, DELETING removes everything);
 * - null: nothing to do (at the desired phase, or in a state the runner never leaves).
 */
export type PlannedStep = { kind: "enter"; to: EnvironmentPhase } | { kind: "work"; phase: WorkPhase };

export function planStep(phase: string, desiredPhase: string): PlannedStep | null {
  // A deletion, once begun, is always finished: the folder may already be half gone.
  if (phase === Phase.DELETING) return { kind: "work", phase: Phase.DELETING };
  if (phase === Phase.DELETED) return null;
  // A stop in progress is finished before anything else, so that no process is left behind.
  if (phase === Phase.STOPPING) return { kind: "work", phase: Phase.STOPPING };

  switch (desiredPhase) {
    case Phase.DELETED:
      return { kind: "enter", to: Phase.DELETING };
    case Phase.STOPPED:
      return phase === Phase.STOPPED ? null : { kind: "enter", to: Phase.STOPPING };
    case Phase.RUNNING:
      if (phase === Phase.RUNNING) return null;
      if (phase === Phase.CREATING) return { kind: "work", phase: Phase.CREATING };
      if (phase === Phase.STARTING) return { kind: "work", phase: Phase.STARTING };
      // STOPPED, and the phases this runner never writes (UNSPECIFIED, UPDATING): start it.
      return { kind: "enter", to: Phase.STARTING };
    default:
      return null;
  }
}

const ALL_PHASES = Object.values(Phase);
/** Every phase but the ones given, as a positive list: `phase IN (…)` can use an index, `NOT IN` cannot. */
const phasesOtherThan = (...excluded: EnvironmentPhase[]): EnvironmentPhase[] => ALL_PHASES.filter((phase) => !excluded.includes(phase));

/**
 * The environments not at their desired phase (of one runner, or of all), as a Prisma filter: one
 * clause per desired phase, each naming the phases it matches, so that the (desiredPhase, phase,
 * runnerId) index serves every clause and a poll reads only pending rows however many stopped
 * environments there are. The runner id goes inside each clause: as a condition of its own beside
 * them, SQLite's planner prefers the (runnerId, …) index and walks all of the runner's rows.
 * Shared by the reconciler and the silent-runner check so they agree on what "pending" means.
 */
export function notAtDesiredPhase(runnerId?: string): Prisma.EnvironmentWhereInput[] {
  const ofRunner = runnerId === undefined ? {} : { runnerId };
  return [
    { desiredPhase: Phase.RUNNING, phase: { in: phasesOtherThan(Phase.RUNNING, Phase.DELETED) }, ...ofRunner },
    { desiredPhase: Phase.STOPPED, phase: { in: phasesOtherThan(Phase.STOPPED, Phase.DELETED) }, ...ofRunner },
    { desiredPhase: Phase.DELETED, phase: { in: phasesOtherThan(Phase.DELETED) }, ...ofRunner },
  ];
}

export const atDesiredPhase = [
  { desiredPhase: Phase.RUNNING, phase: Phase.RUNNING },
  { desiredPhase: Phase.STOPPED, phase: Phase.STOPPED },
  { desiredPhase: Phase.DELETED, phase: Phase.DELETED },
] satisfies Prisma.EnvironmentWhereInput[];
