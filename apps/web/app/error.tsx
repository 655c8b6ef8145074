"use client";

import Link from "next/link";
import { useEffect } from "react";
import { Logo } from "@/components/logo";

/** A page that failed to render: say so, and offer the two ways out. */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    document.title = "Something went wrong · Ona";
  }, []);
  return (
    <main className="flex min-h-[60vh] flex-col items-center justify-center px-4 text-center">
      <Logo className="mb-6" />
      <h1 className="text-xl font-semibold text-gray-900">This page could not be shown</h1>
      <p className="mt-2 max-w-md text-sm text-gray-600">
        The Ona server may be down or restarting. Check that it is running, then try again.
        {error.digest && <span className="mt-1 block font-mono text-xs text-gray-500">Reference: {error.digest}</span>}
      </p>
      <div className="mt-6 flex gap-3">
        <button type="button" onClick={reset} className="h-9 rounded-md bg-blue-600 px-4 text-sm font-medium text-white hover:bg-blue-700">
          Try again
        </button>
        <Link href="/" className="inline-flex h-9 items-center rounded-md border border-gray-300 bg-white px-4 text-sm font-medium text-gray-800 hover:bg-gray-50">
          Go home
        </Link>
      </div>
    </main>
  );
}
