import type { Environment, EnvironmentPhase } from "@ona/contracts";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Spinner } from "@/components/ui/icons";
import { isInTransition, phaseLabel } from "@/lib/format";

const tones: Record<EnvironmentPhase, BadgeTone> = {
  ENVIRONMENT_PHASE_UNSPECIFIED: "gray",
  ENVIRONMENT_PHASE_CREATING: "blue",
  ENVIRONMENT_PHASE_STARTING: "blue",
  ENVIRONMENT_PHASE_RUNNING: "green",
  ENVIRONMENT_PHASE_UPDATING: "blue",
  ENVIRONMENT_PHASE_STOPPING: "amber",
  ENVIRONMENT_PHASE_STOPPED: "gray",
  ENVIRONMENT_PHASE_DELETING: "amber",
  ENVIRONMENT_PHASE_DELETED: "gray",
};

/** The phase as a coloured badge; a spinner while it is changing, a red mark when it failed. */
export function PhaseBadge({ environment }: { environment: Environment }) {
  const { phase, failureMessage } = environment.status;
  const failed = failureMessage.length > 0;
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="environment-phase" data-phase={phase}>
      <Badge tone={tones[phase]}>
        {isInTransition(environment) && <Spinner className="size-3" />}
        {phase === "ENVIRONMENT_PHASE_RUNNING" && <span aria-hidden="true" className="size-1.5 rounded-full bg-green-600" />}
        {phaseLabel(phase)}
      </Badge>
      {failed && <Badge tone="red">Failed</Badge>}
    </span>
  );
}
