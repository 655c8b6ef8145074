"use client";

import { useState } from "react";
import type { Environment } from "@ona/contracts";
import { Button, type ButtonSize } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { describeProblem } from "@/lib/errors";
import { useEnvironmentAction, type EnvironmentAction } from "@/lib/queries";
import { UserText } from "../ui/user-text";

const RUNNING = "ENVIRONMENT_PHASE_RUNNING";
const STOPPED = "ENVIRONMENT_PHASE_STOPPED";
const DELETED = "ENVIRONMENT_PHASE_DELETED";

export function availableActions(environment: Environment): Record<EnvironmentAction, boolean> {
  const { desiredPhase } = environment.spec;
  const { phase, failureMessage } = environment.status;
  const going = desiredPhase === DELETED || phase === "ENVIRONMENT_PHASE_DELETING" || phase === DELETED;
  return {
    // Start again also retries a start that failed.
    start: !going && (desiredPhase === STOPPED || (desiredPhase === RUNNING && failureMessage.length > 0)),
    stop: !going && desiredPhase === RUNNING,
    delete: !going,
  };
}

const confirmations = {
  stop: {
    title: (name: string) => (
      <>
        Stop “<UserText text={name} />”?
      </>
    ),
    description: "Processes running in it end. Its files stay, and you can start it again later.",
    confirm: "Stop environment",
    pending: "Stopping…",
    tone: "primary",
  },
  delete: {
    title: (name: string) => (
      <>
        Delete “<UserText text={name} />”?
      </>
    ),
    description: "Its folder and everything in it — including uncommitted and unpushed work — are removed. This cannot be undone.",
    confirm: "Delete environment",
    pending: "Deleting…",
    tone: "danger",
  },
} as const;

/** Start, stop and delete; stop and delete ask first. The phase then follows by polling. */
export function EnvironmentActions({
  environment,
  size = "sm",
  onDeleted,
}: {
  environment: Environment;
  size?: ButtonSize;
  onDeleted?: () => void;
}) {
  const action = useEnvironmentAction();
  const [confirming, setConfirming] = useState<"stop" | "delete" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const available = availableActions(environment);
  const name = environment.metadata.name;

  async function run(kind: EnvironmentAction) {
    setError(null);
    try {
      await action.mutateAsync({ id: environment.id, action: kind });
      setConfirming(null);
      if (kind === "delete") onDeleted?.();
    } catch (caught) {
      const problem = describeProblem(caught);
      setError(`${problem.title}: ${problem.message}`);
    }
  }

  const pendingKind = action.isPending ? action.variables.action : null;
  const dialog = confirming ? confirmations[confirming] : null;
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      {available.start && (
        <Button variant="secondary" size={size} disabled={action.isPending} onClick={() => void run("start")} aria-label={`Start ${name}`}>
          {pendingKind === "start" ? "Starting…" : "Start"}
        </Button>
      )}
      {available.stop && (
        <Button
          variant="secondary"
          size={size}
          disabled={action.isPending}
          onClick={() => {
            setError(null);
            setConfirming("stop");
          }}
          aria-label={`Stop ${name}`}
        >
          Stop
        </Button>
      )}
      {available.delete && (
        <Button
          variant="secondary"
          size={size}
          className="text-red-700"
          disabled={action.isPending}
          onClick={() => {
            setError(null);
            setConfirming("delete");
          }}
          aria-label={`Delete ${name}`}
        >
          Delete
        </Button>
      )}
      {error && !confirming && (
        <p role="alert" className="basis-full text-right text-xs text-red-700">
          {error}
        </p>
      )}
      {dialog && confirming && (
        <ConfirmDialog
          open
          onOpenChange={(open) => {
            if (!open) setConfirming(null);
          }}
          title={dialog.title(name)}
          description={dialog.description}
          confirmLabel={dialog.confirm}
          pendingLabel={dialog.pending}
          tone={dialog.tone}
          pending={action.isPending}
          error={error}
          onConfirm={() => void run(confirming)}
        />
      )}
    </div>
  );
}
