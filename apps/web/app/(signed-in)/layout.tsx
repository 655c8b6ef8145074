import Link from "next/link";
import type { ReactNode } from "react";
import { Logo } from "@/components/logo";
import { NavLink } from "@/components/nav-link";
import { UserMenu } from "@/components/user-menu";
import { requireUser } from "@/lib/session";
import { ViewerProvider } from "@/lib/viewer";

export const dynamic = "force-dynamic";

export default async function SignedInLayout({ children }: { children: ReactNode }) {
  const user = await requireUser("/settings/personal-access-tokens");
  return (
    <ViewerProvider viewer={user}>
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-blue-600 px-3 py-2 text-sm font-medium text-white focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-gray-200 bg-white/95 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-7xl items-center gap-6 px-6">
          <Link href="/environments" aria-label="Ona home" className="rounded-md">
            <Logo />
          </Link>
          <nav aria-label="Main" className="flex items-center gap-1">
            <NavLink href="/environments">Environments</NavLink>
            <NavLink href="/settings">Settings</NavLink>
          </nav>
          <div className="ml-auto">
            <UserMenu />
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-6 py-8 focus:outline-none">
        {children}
      </main>
    </ViewerProvider>
  );
}
