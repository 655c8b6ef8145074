"use client";

import Link from "next/link";
import { useState } from "react";
import type { Environment } from "@ona/contracts";
import { Button } from "@/components/ui/button";
import { PlusIcon, ServerIcon } from "@/components/ui/icons";
import { EmptyState, ErrorState, LoadingState, PageHeader } from "@/components/ui/states";
import { formatDateTime, repositoryOf, timeAgo } from "@/lib/format";
import { useEnvironmentClasses, useEnvironmentList } from "@/lib/queries";
import { useNow } from "@/lib/use-now";
import { CreateEnvironmentDialog } from "./create-environment-dialog";
import { EnvironmentActions } from "./environment-actions";
import { PhaseBadge } from "./phase-badge";
import { UserText, isolated } from "../ui/user-text";

const th = "px-4 py-2.5 text-left text-xs font-semibold tracking-wide text-gray-600 uppercase";
const td = "px-4 py-3 align-middle text-sm";

/** Your environments, newest first; phases follow the runner by polling. */
export function EnvironmentsPage() {
  const list = useEnvironmentList();
  const classes = useEnvironmentClasses();
  const now = useNow();
  const [creating, setCreating] = useState(false);
  const [announcement, setAnnouncement] = useState("");

  const classNameOf = (id: string) => classes.data?.find((c) => c.id === id)?.displayName ?? id;
  const environments = list.data?.items ?? [];

  function onCreated(environment: Environment) {
    setCreating(false);
    setAnnouncement(`Environment ${environment.metadata.name} created; it is starting.`);
  }

  const newButton = (
    <Button onClick={() => setCreating(true)}>
      <PlusIcon /> New environment
    </Button>
  );

  return (
    <div>
      <PageHeader
        title="Environments"
        description="Each environment is a workspace of its own with a clone of a repository, started by a runner."
        actions={environments.length > 0 && newButton}
      />
      <CreateEnvironmentDialog open={creating} onOpenChange={setCreating} onCreated={onCreated} />
      <p role="status" className="sr-only">
        {announcement}
      </p>

      {list.isPending ? (
        <LoadingState label="Loading your environments…" />
      ) : list.isError && !list.data ? (
        <ErrorState what="your environments" error={list.error} onRetry={() => void list.refetch()} />
      ) : environments.length === 0 ? (
        <EmptyState icon={<ServerIcon className="size-6" />} title="No environments yet" action={newButton}>
          <p>
            Create one from a repository URL — Ona clones it, runs its setup and keeps it running until you stop it. From a terminal:{" "}
            <code className="font-mono text-gray-800">ona environment create &lt;repository-url&gt;</code>.
          </p>
        </EmptyState>
      ) : (
        <>
          {list.isError && (
            <div className="mb-3">
              <ErrorState what="the latest phases" error={list.error} onRetry={() => void list.refetch()} />
            </div>
          )}
          <div className="overflow-x-auto rounded-lg border border-gray-200 bg-white shadow-sm">
            <table className="min-w-full divide-y divide-gray-200">
              <caption className="sr-only">Your environments</caption>
              <thead className="bg-gray-50">
                <tr>
                  <th scope="col" className={th}>Name</th>
                  <th scope="col" className={th}>Repository</th>
                  <th scope="col" className={th}>Class</th>
                  <th scope="col" className={th}>Phase</th>
                  <th scope="col" className={th}>Created</th>
                  <th scope="col" className={th}>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-gray-100">
                {environments.map((environment) => {
                  const url = environment.spec.content.initializer.specs[0]?.contextUrl.url ?? "";
                  return (
                    <tr key={environment.id} data-testid="environment-row" data-environment-id={environment.id}>
                      <td className={td}>
                        <Link href={`/environments/${environment.id}`} className="font-medium text-blue-700 hover:underline">
                          <UserText text={environment.metadata.name} />
                        </Link>
                        <code className="block font-mono text-xs text-gray-500">{environment.id}</code>
                      </td>
                      <td className={`${td} max-w-64`}>
                        <span className="block truncate font-mono text-xs text-gray-700" title={isolated(url)}>
                          <UserText text={repositoryOf(url)} />
                        </span>
                      </td>
                      <td className={`${td} whitespace-nowrap text-gray-700`}>{classNameOf(environment.spec.machine.class)}</td>
                      <td className={td}>
                        <PhaseBadge environment={environment} />
                      </td>
                      <td className={`${td} whitespace-nowrap text-gray-700`}>
                        <time dateTime={environment.metadata.createdAt} title={formatDateTime(environment.metadata.createdAt)}>
                          {timeAgo(environment.metadata.createdAt, now)}
                        </time>
                      </td>
                      <td className={td}>
                        <EnvironmentActions environment={environment} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {list.data?.nextToken && (
            <p className="mt-3 text-sm text-gray-600">
              Showing your 100 newest environments. Use <code className="font-mono">ona environment list</code> to see them all.
            </p>
          )}
        </>
      )}
    </div>
  );
}
