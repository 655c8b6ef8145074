"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";

/** A navigation link that marks itself as the current page (aria-current) when it is. */
export function NavLink({ href, children, variant = "top" }: { href: string; children: ReactNode; variant?: "top" | "side" }) {
  const pathname = usePathname();
  const current = pathname === href || pathname.startsWith(`${href}/`);
  const classes =
    variant === "top"
      ? `rounded-md px-3 py-1.5 text-sm font-medium ${current ? "bg-gray-100 text-gray-900" : "text-gray-600 hover:bg-gray-50 hover:text-gray-900"}`
      : `flex items-center gap-2 rounded-md px-3 py-2 text-sm ${
          current ? "bg-white font-medium text-gray-900 shadow-sm ring-1 ring-gray-200" : "text-gray-600 hover:bg-white/70 hover:text-gray-900"
        }`;
  return (
    <Link href={href} aria-current={current ? "page" : undefined} className={classes}>
      {children}
    </Link>
  );
}
