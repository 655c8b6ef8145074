"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { describeProblem } from "@/lib/errors";
import { Button } from "./button";
import { RefreshIcon, Spinner, WarningIcon } from "./icons";

/** A placeholder while a list loads; announced politely to screen readers. */
export function LoadingState({ label, rows = 3 }: { label: string; rows?: number }) {
  return (
    <div role="status" aria-live="polite" className="rounded-lg border border-gray-200 bg-white p-4" data-testid="loading">
      <p className="mb-3 flex items-center gap-2 text-sm text-gray-600">
        <Spinner /> {label}
      </p>
      <div className="space-y-3" aria-hidden="true">
        {Array.from({ length: rows }, (_, i) => (
          <div key={i} className="h-8 animate-pulse rounded bg-gray-100" />
        ))}
      </div>
    </div>
  );
}

/** Why something could not be shown, and what to do: retry, or sign in again. */
export function ErrorState({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what: string }) {
  const problem = describeProblem(error);
  const pathname = usePathname();
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-5 text-sm text-red-900" data-testid="error-state">
      <div className="flex items-start gap-3">
        <WarningIcon className="mt-0.5 size-5 shrink-0 text-red-600" />
        <div className="space-y-2">
          <p className="font-semibold">
            Could not load {what}: {problem.title.charAt(0).toLowerCase() + problem.title.slice(1)}
          </p>
          <p>{problem.message}</p>
          <div className="flex gap-3 pt-1">
            {problem.kind === "UNAUTHENTICATED" ? (
              <Link
                href={`/sign-in?next=${encodeURIComponent(pathname)}`}
                className="inline-flex h-8 items-center rounded-md bg-red-700 px-3 text-sm font-medium text-white hover:bg-red-800"
              >
                Sign in again
              </Link>
            ) : (
              onRetry && (
                <Button variant="secondary" size="sm" onClick={onRetry}>
                  <RefreshIcon /> Try again
                </Button>
              )
            )}
          </div>
        </div>
      </div>
    </div>
  );
}

/** What an empty list is for, and the first step to fill it. */
export function EmptyState({ icon, title, children, action }: { icon: ReactNode; title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-gray-300 bg-white px-6 py-10 text-center" data-testid="empty-state">
      <div className="mx-auto flex size-12 items-center justify-center rounded-full bg-blue-50 text-blue-600">{icon}</div>
      <h2 className="mt-4 text-base font-semibold text-gray-900">{title}</h2>
      <div className="mx-auto mt-2 max-w-lg space-y-3 text-sm text-gray-600">{children}</div>
      {action && <div className="mt-6 flex justify-center">{action}</div>}
    </div>
  );
}

/** Page heading with an optional description and actions on the right. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight text-gray-900">{title}</h1>
        {description && <p className="mt-1 max-w-2xl text-sm text-gray-600">{description}</p>}
      </div>
      {actions && <div className="flex shrink-0 items-center gap-2">{actions}</div>}
    </div>
  );
}
