"use client";

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import { AuditAction, AuditOutcome, type AuditLogEntry, type ListAuditLogInput, type PersonalAccessToken } from "@ona/contracts";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ListIcon } from "@/components/ui/icons";
import { EmptyState, ErrorState, LoadingState, PageHeader } from "@/components/ui/states";
import { formatDateTime, formatShortDateTime, timeAgo } from "@/lib/format";
import { useAuditLog, useTokenList } from "@/lib/queries";
import { useNow } from "@/lib/use-now";
import { useViewer, type Viewer } from "@/lib/viewer";
import { UserText, isolated } from "../ui/user-text";

const PAGE_SIZE = 25;

/** The actions the server records, for the filter: the contract's list. */
export const AUDIT_ACTIONS = AuditAction.options;

const ALL_TOKEN_STATUSES = ["active", "expired", "revoked"] as const;

const outcomeTone: Record<AuditOutcome, BadgeTone> = { success: "green", denied: "amber", failed: "red" };

interface Filters {
  tokenId: string;
  action: string;
  outcome: string;
  actorId: string;
}

function filtersFrom(params: URLSearchParams): Filters {
  return {
    tokenId: params.get("token") ?? "",
    action: params.get("action") ?? "",
    outcome: params.get("outcome") ?? "",
    actorId: params.get("actor") ?? "",
  };
}

/** Settings → Audit log: who did what, with which token, from where, newest first. */
export function AuditLogPage() {
  const viewer = useViewer();
  const params = useSearchParams();
  const filters = filtersFrom(new URLSearchParams(params.toString()));
  const tokens = useTokenList(ALL_TOKEN_STATUSES);
  const ownTokens = tokens.data?.pages.flatMap((page) => page.items) ?? [];
  const filterKey = JSON.stringify(filters);

  return (
    <div>
      <PageHeader
        title="Audit log"
        description={
          viewer.role === "admin"
            ? "Every change and every refused attempt, by every user — you are an administrator. Newest first."
            : "Every change you made and every refused attempt with your credentials, newest first. Calls made with a token carry its id."
        }
      />
      <FilterBar filters={filters} tokens={ownTokens} isAdmin={viewer.role === "admin"} />
      {/* A new filter starts again at the first page. */}
      <AuditTable key={filterKey} filters={filters} ownTokens={ownTokens} viewer={viewer} />
    </div>
  );
}

function FilterBar({ filters, tokens, isAdmin }: { filters: Filters; tokens: PersonalAccessToken[]; isAdmin: boolean }) {
  const id = useId();
  const router = useRouter();
  const pathname = usePathname();
  const [actorId, setActorId] = useState(filters.actorId);

  function apply(next: Partial<Filters>) {
    const merged = { ...filters, ...next };
    const search = new URLSearchParams();
    if (merged.tokenId) search.set("token", merged.tokenId);
    if (merged.action) search.set("action", merged.action);
    if (merged.outcome) search.set("outcome", merged.outcome);
    if (merged.actorId) search.set("actor", merged.actorId);
    const query = search.toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  }

  const select = "mt-1 block w-full rounded-md border border-gray-300 bg-white px-2 py-1.5 text-sm shadow-sm";
  const tokenKnown = !filters.tokenId || tokens.some((token) => token.id === filters.tokenId);
  const active = filters.tokenId || filters.action || filters.outcome || filters.actorId;
  return (
    <form
      role="search"
      aria-label="Filter the audit log"
      className="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-gray-200 bg-white p-3 shadow-sm"
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        apply({ actorId: actorId.trim() });
      }}
    >
      <div className="min-w-52 flex-1">
        <label htmlFor={`${id}-token`} className="block text-xs font-medium text-gray-700">
          Token
        </label>
        <select id={`${id}-token`} className={select} value={filters.tokenId} onChange={(event) => apply({ tokenId: event.target.value })}>
          <option value="">Any (session or token)</option>
          {!tokenKnown && <option value={filters.tokenId}>{filters.tokenId}</option>}
          {tokens.map((token) => (
            <option key={token.id} value={token.id}>
              {isolated(token.description)} — {token.hint}
              {token.status === "active" ? "" : ` (${token.status})`}
            </option>
          ))}
        </select>
      </div>
      <div className="min-w-44">
        <label htmlFor={`${id}-action`} className="block text-xs font-medium text-gray-700">
          Action
        </label>
        <select id={`${id}-action`} className={select} value={filters.action} onChange={(event) => apply({ action: event.target.value })}>
          <option value="">Any action</option>
          {AUDIT_ACTIONS.map((action) => (
            <option key={action} value={action}>
              {action}
            </option>
          ))}
        </select>
      </div>
      <div className="min-w-32">
        <label htmlFor={`${id}-outcome`} className="block text-xs font-medium text-gray-700">
          Outcome
        </label>
        <select id={`${id}-outcome`} className={select} value={filters.outcome} onChange={(event) => apply({ outcome: event.target.value })}>
          <option value="">Any outcome</option>
          {AuditOutcome.options.map((outcome) => (
            <option key={outcome} value={outcome}>
              {outcome}
            </option>
          ))}
        </select>
      </div>
      {isAdmin && (
        <div className="min-w-44">
          <label htmlFor={`${id}-actor`} className="block text-xs font-medium text-gray-700">
            Actor (user id)
          </label>
          <input
            id={`${id}-actor`}
            value={actorId}
            onChange={(event) => setActorId(event.target.value)}
            onBlur={() => apply({ actorId: actorId.trim() })}
            placeholder="Everyone"
            className={`${select} font-mono`}
          />
        </div>
      )}
      {active && (
        <Button
          variant="ghost"
          size="sm"
          onClick={() => {
            setActorId("");
            router.replace(pathname, { scroll: false });
          }}
        >
          Clear filters
        </Button>
      )}
    </form>
  );
}

/** A filter from the URL goes into the query only when the contract accepts it. */
function optional<K extends string, T>(key: K, parsed: { success: true; data: T } | { success: false }): Partial<Record<K, T>> {
  return parsed.success ? ({ [key]: parsed.data } as Partial<Record<K, T>>) : {};
}

function AuditTable({ filters, ownTokens, viewer }: { filters: Filters; ownTokens: PersonalAccessToken[]; viewer: Viewer }) {
  const now = useNow();
  // Cursor pagination: the cursors of the pages before this one, to go back.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const input: ListAuditLogInput = {
    pageSize: PAGE_SIZE,
    ...(filters.tokenId ? { tokenId: filters.tokenId } : {}),
    ...optional("action", AuditAction.safeParse(filters.action)),
    ...optional("outcome", AuditOutcome.safeParse(filters.outcome)),
    ...(filters.actorId ? { actorId: filters.actorId } : {}),
    ...(cursor ? { nextToken: cursor } : {}),
  };
  const log = useAuditLog(input);
  const page = cursors.length + 1;
  const filtered = Boolean(filters.tokenId || filters.action || filters.outcome || filters.actorId);
  const ownTokenIds = new Set(ownTokens.map((token) => token.id));

  if (log.isPending) return <LoadingState label="Loading the audit log…" rows={5} />;
  if (log.isError && !log.data) return <ErrorState what="the audit log" error={log.error} onRetry={() => void log.refetch()} />;
  const entries = log.data.items;
  if (entries.length === 0 && page === 1) {
    return (
      <EmptyState icon={<ListIcon className="size-6" />} title={filtered ? "No entries match these filters" : "Nothing recorded yet"}>
        <p>
          {filtered
            ? "Try another token or action, or clear the filters."
            : "Creating or revoking a token, and creating, starting, stopping or deleting an environment, each write an entry here — as do refused attempts."}
        </p>
      </EmptyState>
    );
  }
  return (
    <div>
      {log.isError && (
        <div className="mb-3">
          <ErrorState what="this page" error={log.error} onRetry={() => void log.refetch()} />
        </div>
      )}
      <div className="overflow-x-auto rounded-lg border border-gray-200 bg-white shadow-sm" aria-busy={log.isFetching}>
        <table className="min-w-full divide-y divide-gray-200">
          <caption className="sr-only">Audit log entries, newest first, page {page}</caption>
          <thead className="bg-gray-50">
            <tr>
              {["Time", "Action and subject", "Actor and token", "Outcome", "Address"].map((heading) => (
                <th key={heading} scope="col" className="px-3 py-2.5 text-left text-xs font-semibold tracking-wide text-gray-600 uppercase">
                  {heading}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-gray-100">
            {entries.map((entry) => (
              <AuditRow key={entry.id} entry={entry} now={now} viewer={viewer} ownTokenIds={ownTokenIds} />
            ))}
          </tbody>
        </table>
      </div>
      <nav aria-label="Audit log pages" className="mt-3 flex items-center justify-between text-sm text-gray-600">
        <p>
          <span data-testid="audit-page">Page {page}</span>
          {log.isFetching && (
            <span className="ml-2 text-gray-400" aria-hidden="true">
              Updating…
            </span>
          )}
        </p>
        <div className="flex gap-2">
          <Button variant="secondary" size="sm" disabled={page === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer
          </Button>
          <Button
            variant="secondary"
            size="sm"
            disabled={!log.data.nextToken}
            onClick={() => {
              const next = log.data.nextToken;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Older
          </Button>
        </div>
      </nav>
    </div>
  );
}

function AuditRow({ entry, now, viewer, ownTokenIds }: { entry: AuditLogEntry; now: number; viewer: Viewer; ownTokenIds: Set<string> }) {
  const td = "px-3 py-3 align-top text-sm";
  const you = entry.actorPrincipal === "user" && entry.actorId === viewer.id;
  const tokenHref = (id: string) => `/settings/personal-access-tokens?token=${encodeURIComponent(id)}`;
  return (
    <tr data-testid="audit-row" data-action={entry.action} data-token-id={entry.tokenId ?? ""}>
      <td className={`${td} whitespace-nowrap`}>
        <time dateTime={entry.createdAt} title={formatDateTime(entry.createdAt)} className="text-gray-900">
          {formatShortDateTime(entry.createdAt)}
        </time>
        <span className="block text-xs text-gray-500">{timeAgo(entry.createdAt, now)}</span>
      </td>
      <td className={td}>
        <code className="font-mono text-xs font-semibold text-gray-900">{entry.action}</code>
        <span className="mt-0.5 block text-xs text-gray-600">
          {entry.subjectType}
          {entry.subjectId && " "}
          {entry.subjectId &&
            (entry.subjectType === "environment" ? (
              <Link href={`/environments/${encodeURIComponent(entry.subjectId)}`} className="font-mono text-blue-700 hover:underline">
                {entry.subjectId}
              </Link>
            ) : entry.subjectType === "token" && ownTokenIds.has(entry.subjectId) ? (
              <Link href={tokenHref(entry.subjectId)} className="font-mono text-blue-700 hover:underline">
                {entry.subjectId}
              </Link>
            ) : (
              <code className="font-mono">{entry.subjectId}</code>
            ))}
        </span>
        {entry.reason && (
          <span className="mt-1 block text-xs text-gray-600">
            <UserText text={entry.reason} />
          </span>
        )}
      </td>
      <td className={td}>
        {entry.actorPrincipal !== "user" ? (
          <span className="text-gray-700">{entry.actorPrincipal}</span>
        ) : you ? (
          <span className="font-medium text-gray-900">You</span>
        ) : (
          <span className="text-gray-700">
            user <code className="font-mono text-xs">{entry.actorId ?? "unknown"}</code>
          </span>
        )}
        <span className="mt-0.5 block text-xs whitespace-nowrap text-gray-500">
          {entry.tokenId ? (
            <>
              token{" "}
              {ownTokenIds.has(entry.tokenId) ? (
                <Link href={tokenHref(entry.tokenId)} className="font-mono text-blue-700 hover:underline" data-testid="audit-token-link">
                  {entry.tokenId}
                </Link>
              ) : (
                <code className="font-mono text-gray-700">{entry.tokenId}</code>
              )}
            </>
          ) : (
            "signed-in session"
          )}
        </span>
      </td>
      <td className={td}>
        <Badge tone={outcomeTone[entry.outcome]}>{entry.outcome}</Badge>
      </td>
      <td className={td}>
        <span className="font-mono text-xs text-gray-800">{entry.ip ?? "—"}</span>
        {entry.userAgent && (
          <span className="block max-w-36 truncate text-xs text-gray-500" title={isolated(entry.userAgent)}>
            <UserText text={entry.userAgent} />
          </span>
        )}
      </td>
    </tr>
  );
}
