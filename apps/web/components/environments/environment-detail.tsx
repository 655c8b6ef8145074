"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, type ReactNode } from "react";
import type { Environment, LogLine } from "@ona/contracts";
import { ArrowLeftIcon, WarningIcon } from "@/components/ui/icons";
import { ErrorState, LoadingState } from "@/components/ui/states";
import { describeProblem } from "@/lib/errors";
import { formatDateTime, formatTime, isInTransition, phaseLabel } from "@/lib/format";
import { useEnvironment, useEnvironmentClasses, useEnvironmentLogs } from "@/lib/queries";
import { EnvironmentActions } from "./environment-actions";
import { PhaseBadge } from "./phase-badge";
import { UserText } from "../ui/user-text";

/** One environment: where it is, why it failed if it did, and what it printed. */
export function EnvironmentDetail({ id }: { id: string }) {
  const router = useRouter();
  const environment = useEnvironment(id);
  const back = (
    <Link href="/environments" className="inline-flex items-center gap-1 text-sm text-gray-600 hover:text-gray-900">
      <ArrowLeftIcon /> All environments
    </Link>
  );

  if (environment.isPending) {
    return (
      <div className="space-y-4">
        {back}
        <LoadingState label="Loading the environment…" />
      </div>
    );
  }
  if (environment.isError && !environment.data) {
    const problem = describeProblem(environment.error);
    return (
      <div className="space-y-4">
        {back}
        <h1 className="text-2xl font-semibold text-gray-900">Environment {id}</h1>
        {problem.kind === "NOT_FOUND" ? (
          <div role="alert" className="rounded-lg border border-gray-200 bg-white p-5 text-sm text-gray-700">
            <p className="font-semibold text-gray-900">This environment does not exist.</p>
            <p className="mt-1">It may have been deleted, or it belongs to someone else. Go back to your environments to pick another one.</p>
          </div>
        ) : (
          <ErrorState what="the environment" error={environment.error} onRetry={() => void environment.refetch()} />
        )}
      </div>
    );
  }
  const env = environment.data;
  return (
    <div className="space-y-6">
      {back}
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold tracking-tight text-gray-900">
            <UserText text={env.metadata.name} />
            <span aria-live="polite" className="text-base font-normal">
              <span className="sr-only">Phase: </span>
              <PhaseBadge environment={env} />
            </span>
          </h1>
          <code className="mt-1 block font-mono text-xs text-gray-500">{env.id}</code>
        </div>
        <EnvironmentActions environment={env} size="md" onDeleted={() => router.push("/environments")} />
      </div>

      {environment.isError && <ErrorState what="the latest state" error={environment.error} onRetry={() => void environment.refetch()} />}

      {env.status.failureMessage.length > 0 && (
        <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900" data-testid="failure-message">
          <p className="flex items-center gap-2 font-semibold">
            <WarningIcon className="size-4 text-red-600" /> The environment failed
          </p>
          <ul className="mt-2 list-disc space-y-1 pl-6">
            {env.status.failureMessage.map((message, index) => (
              <li key={index} className="font-mono text-xs whitespace-pre-wrap">
                <UserText text={message} />
              </li>
            ))}
          </ul>
          <p className="mt-2">Read the logs below for details; fix the cause, then start it again, or delete it.</p>
        </div>
      )}
      {env.status.warningMessage.length > 0 && (
        <div className="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900">
          <ul className="list-disc space-y-1 pl-5">
            {env.status.warningMessage.map((message, index) => (
              <li key={index}>{message}</li>
            ))}
          </ul>
        </div>
      )}

      <Details environment={env} />
      <Logs environment={env} />
    </div>
  );
}

function Details({ environment }: { environment: Environment }) {
  const classes = useEnvironmentClasses();
  const environmentClass = classes.data?.find((c) => c.id === environment.spec.machine.class);
  const url = environment.spec.content.initializer.specs[0]?.contextUrl.url ?? "—";
  const rows: [string, ReactNode][] = [
    ["Repository", <code key="url" className="font-mono text-xs break-all"><UserText text={url} /></code>],
    ["Class", environmentClass ? `${environmentClass.displayName} (${environmentClass.id})` : environment.spec.machine.class],
    ["Wanted phase", phaseLabel(environment.spec.desiredPhase)],
    ["Created", formatDateTime(environment.metadata.createdAt)],
    ["Last started", environment.metadata.lastStartedAt ? formatDateTime(environment.metadata.lastStartedAt) : "Not yet"],
    ["Runner", <code key="runner" className="font-mono text-xs">{environment.metadata.runnerId}</code>],
  ];
  return (
    <section aria-labelledby="details-heading" className="rounded-lg border border-gray-200 bg-white shadow-sm">
      <h2 id="details-heading" className="border-b border-gray-100 px-4 py-3 text-sm font-semibold text-gray-900">
        Details
      </h2>
      <dl className="grid gap-x-6 gap-y-3 px-4 py-4 text-sm sm:grid-cols-2">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt className="text-xs text-gray-500">{term}</dt>
            <dd className="mt-0.5 text-gray-900">{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

const streamClass: Record<LogLine["stream"], string> = {
  system: "text-sky-300",
  stdout: "text-gray-100",
  stderr: "text-amber-300",
};

function Logs({ environment }: { environment: Environment }) {
  const logs = useEnvironmentLogs(environment.id, isInTransition(environment));
  const scroller = useRef<HTMLDivElement>(null);
  const lines = logs.data ?? [];
  const count = lines.length;

  // Keep the newest line in view while following, unless the reader scrolled up.
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const nearBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
    if (nearBottom || count < 30) element.scrollTop = element.scrollHeight;
  }, [count]);

  return (
    <section aria-labelledby="logs-heading">
      <div className="mb-2 flex items-baseline justify-between">
        <h2 id="logs-heading" className="text-sm font-semibold text-gray-900">
          Logs
        </h2>
        <span className="text-xs text-gray-500">{isInTransition(environment) ? "Following…" : `${count} lines`}</span>
      </div>
      {logs.isPending ? (
        <LoadingState label="Loading logs…" rows={2} />
      ) : logs.isError && !logs.data ? (
        <ErrorState what="the logs" error={logs.error} onRetry={() => void logs.refetch()} />
      ) : (
        <div
          ref={scroller}
          tabIndex={0}
          role="log"
          aria-label={`Logs of ${environment.metadata.name}`}
          data-testid="environment-logs"
          className="max-h-[28rem] overflow-auto rounded-lg bg-gray-950 p-4 font-mono text-xs leading-5"
        >
          {count === 0 ? (
            <p className="text-gray-400">No log lines yet. The runner writes here as it clones the repository and runs its setup.</p>
          ) : (
            lines.map((line, index) => (
              <div key={index} className="flex gap-3">
                <time dateTime={line.at} className="shrink-0 text-gray-500 select-none">
                  {formatTime(line.at)}
                </time>
                <span className={`whitespace-pre-wrap break-all ${streamClass[line.stream]}`}>
                  <UserText text={line.text} />
                </span>
              </div>
            ))
          )}
        </div>
      )}
    </section>
  );
}
