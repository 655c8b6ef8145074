"use client";

import { useSearchParams } from "next/navigation";
import { useState } from "react";
import type { TokenStatus } from "@ona/contracts";
import { Button } from "@/components/ui/button";
import { KeyIcon, PlusIcon } from "@/components/ui/icons";
import { EmptyState, ErrorState, LoadingState, PageHeader } from "@/components/ui/states";
import { useTokenList } from "@/lib/queries";
import { NewTokenDialog } from "./new-token-dialog";
import { TokenTable } from "./token-table";

const ACTIVE: readonly TokenStatus[] = ["active"];
const INACTIVE: readonly TokenStatus[] = ["revoked", "expired"];

/** Settings → Personal access tokens: active tokens first, revoked and expired ones apart. */
export function TokensPage() {
  const highlightId = useSearchParams().get("token");
  const active = useTokenList(ACTIVE);
  const inactive = useTokenList(INACTIVE);
  const [showInactive, setShowInactive] = useState(false);
  const [creating, setCreating] = useState(false);

  const activeTokens = active.data?.pages.flatMap((page) => page.items) ?? [];
  const inactiveTokens = inactive.data?.pages.flatMap((page) => page.items) ?? [];
  const highlightInactive = highlightId !== null && inactiveTokens.some((token) => token.id === highlightId);
  const nothingYet = active.isSuccess && inactive.isSuccess && activeTokens.length === 0 && inactiveTokens.length === 0;

  return (
    <div>
      <PageHeader
        title="Personal access tokens"
        description={
          <>
            Tokens authenticate the <code className="font-mono text-gray-800">ona</code> CLI, the SDK and CI pipelines as you. Each call made
            with one is recorded in the audit log with its token id.
          </>
        }
        actions={
          !nothingYet && (
            <Button onClick={() => setCreating(true)}>
              <PlusIcon /> New Token
            </Button>
          )
        }
      />
      <NewTokenDialog open={creating} onOpenChange={setCreating} />

      {active.isPending || (inactive.isPending && !active.isError) ? (
        <LoadingState label="Loading your tokens…" />
      ) : active.isError ? (
        <ErrorState what="your tokens" error={active.error} onRetry={() => void active.refetch()} />
      ) : nothingYet ? (
        <EmptyState
          icon={<KeyIcon className="size-6" />}
          title="No personal access tokens yet"
          action={
            <Button onClick={() => setCreating(true)}>
              <PlusIcon /> New Token
            </Button>
          }
        >
          <p>
            A token lets programs act as you: the <code className="font-mono">ona</code> CLI, the TypeScript SDK, scripts and CI jobs. Choose
            read-only when a job only needs to look, and the shortest expiration that works.
          </p>
          <p>Create one, then sign the CLI in with it:</p>
          <pre className="mx-auto w-fit rounded-md bg-gray-900 px-4 py-2 text-left font-mono text-xs text-gray-100">
            <span className="text-gray-400">$ </span>ona login --token &lt;your-token&gt;
          </pre>
        </EmptyState>
      ) : (
        <section aria-labelledby="active-tokens-heading">
          <h2 id="active-tokens-heading" className="mb-3 text-base font-semibold text-gray-900">
            Active tokens <span className="font-normal text-gray-500">({activeTokens.length}{active.hasNextPage ? "+" : ""})</span>
          </h2>
          {activeTokens.length === 0 ? (
            <p className="rounded-lg border border-dashed border-gray-300 bg-white px-4 py-6 text-center text-sm text-gray-600">
              No active tokens. Create one with <strong>New Token</strong>; revoked and expired tokens are listed below.
            </p>
          ) : (
            <TokenTable tokens={activeTokens} caption="Active personal access tokens" highlightId={highlightId} />
          )}
          {active.hasNextPage && (
            <div className="mt-3 flex justify-center">
              <Button variant="secondary" size="sm" disabled={active.isFetchingNextPage} onClick={() => void active.fetchNextPage()}>
                {active.isFetchingNextPage ? "Loading…" : "Show more tokens"}
              </Button>
            </div>
          )}
          <p className="mt-3 text-xs text-gray-500">
            Use a token with <code className="font-mono">ona login --token &lt;your-token&gt;</code> or{" "}
            <code className="font-mono">export ONA_TOKEN=&lt;your-token&gt;</code>.
          </p>
        </section>
      )}

      {!nothingYet && (
        <section aria-labelledby="inactive-tokens-heading" className="mt-10">
          <div className="mb-3 flex items-center justify-between gap-4">
            <h2 id="inactive-tokens-heading" className="text-base font-semibold text-gray-900">
              Revoked and expired{" "}
              {inactive.isSuccess && (
                <span className="font-normal text-gray-500">
                  ({inactiveTokens.length}
                  {inactive.hasNextPage ? "+" : ""})
                </span>
              )}
            </h2>
            {inactiveTokens.length > 0 && !highlightInactive && (
              <Button variant="ghost" size="sm" aria-expanded={showInactive} aria-controls="inactive-tokens" onClick={() => setShowInactive((v) => !v)}>
                {showInactive ? "Hide" : "Show"}
              </Button>
            )}
          </div>
          <div id="inactive-tokens">
            {inactive.isPending ? (
              <LoadingState label="Loading revoked and expired tokens…" rows={1} />
            ) : inactive.isError ? (
              <ErrorState what="revoked and expired tokens" error={inactive.error} onRetry={() => void inactive.refetch()} />
            ) : inactiveTokens.length === 0 ? (
              <p className="text-sm text-gray-500">None. Tokens you revoke, or that expire, stay listed here so the audit log keeps making sense.</p>
            ) : showInactive || highlightInactive ? (
              <>
                <TokenTable tokens={inactiveTokens} caption="Revoked and expired personal access tokens" highlightId={highlightId} />
                {inactive.hasNextPage && (
                  <div className="mt-3 flex justify-center">
                    <Button variant="secondary" size="sm" disabled={inactive.isFetchingNextPage} onClick={() => void inactive.fetchNextPage()}>
                      {inactive.isFetchingNextPage ? "Loading…" : "Show more"}
                    </Button>
                  </div>
                )}
              </>
            ) : (
              <p className="text-sm text-gray-500">
                {inactiveTokens.length === 1 ? "One token no longer works" : `${inactiveTokens.length} tokens no longer work`}; they are kept for
                the record.
              </p>
            )}
          </div>
        </section>
      )}
    </div>
  );
}
