import Link from "next/link";
import type { ReactNode } from "react";
import { SignOutButton } from "@/components/sign-out-button";
import { requireUser } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function SignedInLayout({ children }: { children: ReactNode }) {
  const user = await requireUser("/settings/personal-access-tokens");
  return (
    <>
      <header className="border-b border-gray-200 bg-white">
        <nav aria-label="Main" className="mx-auto flex max-w-5xl items-center gap-6 px-6 py-3">
          <Link href="/" className="font-semibold">Ona</Link>
          <Link href="/environments" className="text-sm text-gray-700 hover:underline">Environments</Link>
          <Link href="/settings/personal-access-tokens" className="text-sm text-gray-700 hover:underline">Personal access tokens</Link>
          <Link href="/settings/audit-log" className="text-sm text-gray-700 hover:underline">Audit log</Link>
          <span className="ml-auto text-sm text-gray-600" data-testid="signed-in-user">
            {user.name} ({user.email}){user.role === "admin" ? " · admin" : ""}
          </span>
          <SignOutButton />
        </nav>
      </header>
      <div className="mx-auto max-w-5xl px-6 py-8">{children}</div>
    </>
  );
}
