"use client";

import * as Menu from "@radix-ui/react-dropdown-menu";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { authClient } from "@/lib/auth-client";
import { useViewer } from "@/lib/viewer";
import { ChevronDownIcon, KeyIcon, ListIcon, LogOutIcon, ServerIcon } from "./ui/icons";
import { UserText } from "./ui/user-text";

const itemClass =
  "flex cursor-default items-center gap-2 rounded-md px-2 py-1.5 text-sm text-gray-800 outline-none select-none data-[highlighted]:bg-gray-100 data-[disabled]:opacity-50";

/** The signed-in user's menu: who they are, shortcuts, sign out. Arrow keys move, Escape closes. */
export function UserMenu() {
  const viewer = useViewer();
  const router = useRouter();
  const [signingOut, setSigningOut] = useState(false);
  const initial = (viewer.name.trim()[0] ?? viewer.email[0] ?? "?").toUpperCase();

  async function signOut() {
    setSigningOut(true);
    try {
      await authClient.signOut();
    } finally {
      router.replace("/sign-in");
      router.refresh();
    }
  }

  return (
    <Menu.Root>
      <Menu.Trigger
        className="flex items-center gap-2 rounded-full py-1 pr-2 pl-1 text-sm text-gray-700 hover:bg-gray-100 data-[state=open]:bg-gray-100"
        aria-label={`Account menu for ${viewer.name}`}
        data-testid="user-menu"
      >
        <span aria-hidden="true" className="flex size-7 items-center justify-center rounded-full bg-blue-600 text-xs font-semibold text-white">
          {initial}
        </span>
        <span className="hidden max-w-40 truncate sm:inline">
          <UserText text={viewer.name} />
        </span>
        <ChevronDownIcon className="size-4 text-gray-500" />
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content align="end" sideOffset={6} className="z-50 min-w-60 rounded-lg bg-white p-1 shadow-lg ring-1 ring-gray-900/10">
          <Menu.Label className="px-2 py-2">
            <span className="block text-sm font-medium text-gray-900">
              <UserText text={viewer.name} />
            </span>
            <span className="block truncate text-xs text-gray-600" data-testid="signed-in-user">
              {viewer.email}
            </span>
            {viewer.role === "admin" && (
              <span className="mt-1 inline-block rounded bg-purple-50 px-1.5 text-xs font-medium text-purple-800">Administrator</span>
            )}
          </Menu.Label>
          <Menu.Separator className="my-1 h-px bg-gray-200" />
          <Menu.Item className={itemClass} onSelect={() => router.push("/environments")}>
            <ServerIcon className="size-4 text-gray-500" /> Environments
          </Menu.Item>
          <Menu.Item className={itemClass} onSelect={() => router.push("/settings/personal-access-tokens")}>
            <KeyIcon className="size-4 text-gray-500" /> Personal access tokens
          </Menu.Item>
          <Menu.Item className={itemClass} onSelect={() => router.push("/settings/audit-log")}>
            <ListIcon className="size-4 text-gray-500" /> Audit log
          </Menu.Item>
          <Menu.Separator className="my-1 h-px bg-gray-200" />
          <Menu.Item className={itemClass} disabled={signingOut} onSelect={() => void signOut()}>
            <LogOutIcon className="size-4 text-gray-500" /> {signingOut ? "Signing out…" : "Sign out"}
          </Menu.Item>
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}
