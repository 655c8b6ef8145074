"use client";

import { useEffect, useRef, useState } from "react";
import type { PersonalAccessToken } from "@ona/contracts";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { WarningIcon } from "@/components/ui/icons";
import { describeProblem } from "@/lib/errors";
import { expiryOf, formatDate, formatDateTime, timeAgo } from "@/lib/format";
import { useRevokeToken } from "@/lib/queries";
import { useNow } from "@/lib/use-now";
import { accessLevelLabel } from "./new-token-dialog";
import { UserText } from "../ui/user-text";

const th = "px-4 py-2.5 text-left text-xs font-semibold tracking-wide text-gray-600 uppercase";
const td = "px-4 py-3 align-top text-sm";

/** Tokens as a table: one row each, revoke at the end of active ones. */
export function TokenTable({ tokens, caption, highlightId }: { tokens: PersonalAccessToken[]; caption: string; highlightId: string | null }) {
  const now = useNow();
  const [revoking, setRevoking] = useState<PersonalAccessToken | null>(null);
  const revoke = useRevokeToken();
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const showActions = tokens.some((token) => token.status === "active");

  async function confirmRevoke() {
    if (!revoking) return;
    setRevokeError(null);
    try {
      await revoke.mutateAsync(revoking.id);
      setRevoking(null);
    } catch (error) {
      const problem = describeProblem(error);
      setRevokeError(`${problem.title}: ${problem.message}`);
    }
  }

  return (
    <div className="overflow-x-auto rounded-lg border border-gray-200 bg-white shadow-sm">
      <table className="min-w-full divide-y divide-gray-200">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-gray-50">
          <tr>
            <th scope="col" className={th}>Token</th>
            <th scope="col" className={th}>Access</th>
            <th scope="col" className={th}>Created</th>
            <th scope="col" className={th}>Expires</th>
            <th scope="col" className={th}>Last used</th>
            <th scope="col" className={th}>Status</th>
            {showActions && (
              <th scope="col" className={th}>
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody className="divide-y divide-gray-100">
          {tokens.map((token) => (
            <TokenRow
              key={token.id}
              token={token}
              now={now}
              highlighted={token.id === highlightId}
              showActions={showActions}
              onRevoke={() => {
                setRevokeError(null);
                setRevoking(token);
              }}
            />
          ))}
        </tbody>
      </table>
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => {
          if (!open) setRevoking(null);
        }}
        title={
          <>
            Revoke “<UserText text={revoking?.description ?? ""} />”?
          </>
        }
        description={
          <>
            Anything that uses this token — the CLI, scripts, CI jobs — is refused from its next request. This cannot be undone; the token
            stays listed as revoked.
          </>
        }
        confirmLabel="Revoke token"
        pendingLabel="Revoking…"
        pending={revoke.isPending}
        error={revokeError}
        onConfirm={() => void confirmRevoke()}
      />
    </div>
  );
}

function TokenRow({
  token,
  now,
  highlighted,
  showActions,
  onRevoke,
}: {
  token: PersonalAccessToken;
  now: number;
  highlighted: boolean;
  showActions: boolean;
  onRevoke: () => void;
}) {
  const ref = useRef<HTMLTableRowElement>(null);
  useEffect(() => {
    if (highlighted) ref.current?.scrollIntoView({ block: "center" });
  }, [highlighted]);
  const expiry = expiryOf(token.expiresAt, now);
  const inactive = token.status !== "active";
  return (
    <tr
      ref={ref}
      id={`token-${token.id}`}
      data-testid="token-row"
      data-token-id={token.id}
      className={`${highlighted ? "bg-blue-50/70" : ""} ${inactive ? "text-gray-500" : ""}`}
    >
      <td className={td}>
        <div className={`font-medium ${inactive ? "text-gray-600" : "text-gray-900"}`}><UserText text={token.description} /></div>
        <code className="mt-0.5 block font-mono text-xs whitespace-nowrap text-gray-500" data-testid="token-hint">
          {token.hint}
        </code>
      </td>
      <td className={td}>
        <Badge tone={token.accessLevel === "read-write" ? "blue" : "gray"}>{accessLevelLabel(token.accessLevel)}</Badge>
      </td>
      <td className={`${td} whitespace-nowrap`}>
        <time dateTime={token.createdAt} title={formatDateTime(token.createdAt)}>
          {formatDate(token.createdAt)}
        </time>
      </td>
      <td className={`${td} whitespace-nowrap`} data-testid="token-expires">
        <time dateTime={token.expiresAt} title={formatDateTime(token.expiresAt)}>
          {formatDate(token.expiresAt)}
        </time>
        {token.status !== "revoked" && (
          <span
            className={`mt-0.5 flex items-center gap-1 text-xs ${
              expiry.expired ? "font-medium text-red-700" : expiry.soon ? "font-medium text-amber-700" : "text-gray-500"
            }`}
          >
            {(expiry.expired || expiry.soon) && <WarningIcon className="size-3.5" />}
            {expiry.text}
          </span>
        )}
      </td>
      <td className={`${td} whitespace-nowrap`} data-testid="token-last-used">
        {token.lastUsed ? (
          <>
            <time dateTime={token.lastUsed.at} title={formatDateTime(token.lastUsed.at)}>
              {timeAgo(token.lastUsed.at, now)}
            </time>
            {token.lastUsed.ip && <span className="mt-0.5 block font-mono text-xs text-gray-500">from {token.lastUsed.ip}</span>}
          </>
        ) : (
          <span className="text-gray-500">Never used</span>
        )}
      </td>
      <td className={td}>
        <StatusBadge token={token} soon={expiry.soon} />
      </td>
      {showActions && (
        <td className={`${td} text-right`}>
          {token.status === "active" && (
            <Button variant="secondary" size="sm" onClick={onRevoke} aria-label={`Revoke ${token.description}`} className="text-red-700">
              Revoke
            </Button>
          )}
        </td>
      )}
    </tr>
  );
}

function StatusBadge({ token, soon }: { token: PersonalAccessToken; soon: boolean }) {
  switch (token.status) {
    case "active":
      return soon ? <Badge tone="amber">Expiring soon</Badge> : <Badge tone="green">Active</Badge>;
    case "expired":
      return <Badge tone="red">Expired</Badge>;
    case "revoked":
      return (
        <span>
          <Badge tone="gray">Revoked</Badge>
          {token.revokedAt && (
            <time dateTime={token.revokedAt} className="mt-1 block text-xs text-gray-500" title={formatDateTime(token.revokedAt)}>
              {formatDate(token.revokedAt)}
            </time>
          )}
        </span>
      );
  }
}
