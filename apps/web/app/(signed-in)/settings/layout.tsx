import type { ReactNode } from "react";
import { NavLink } from "@/components/nav-link";
import { KeyIcon, ListIcon } from "@/components/ui/icons";

/** Settings pages share a side navigation, like GitHub's and Ona's own. */
export default function SettingsLayout({ children }: { children: ReactNode }) {
  return (
    <div className="flex flex-col gap-8 md:flex-row">
      <nav aria-label="Settings" className="shrink-0 md:w-56">
        <p className="mb-2 px-3 text-xs font-semibold tracking-wide text-gray-500 uppercase">Settings</p>
        <ul className="space-y-1">
          <li>
            <NavLink href="/settings/personal-access-tokens" variant="side">
              <KeyIcon className="size-4 text-gray-500" /> Personal access tokens
            </NavLink>
          </li>
          <li>
            <NavLink href="/settings/audit-log" variant="side">
              <ListIcon className="size-4 text-gray-500" /> Audit log
            </NavLink>
          </li>
        </ul>
      </nav>
      <div className="min-w-0 flex-1">{children}</div>
    </div>
  );
}
