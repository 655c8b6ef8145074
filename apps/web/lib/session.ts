import "server-only";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getOnaApi } from "@ona/api/registry";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: "admin" | "member";
}

/** The signed-in user for a server component, or null. */
export async function currentUser(): Promise<SessionUser | null> {
  const session = await getOnaApi().auth.api.getSession({ headers: await headers() });
  if (!session) return null;
  const user = session.user as typeof session.user & { role?: string; active?: boolean };
  if (user.active === false) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role === "admin" ? "admin" : "member" };
}

/** For pages that need a user: sends a signed-out visitor to sign-in and back. */
export async function requireUser(nextPath: string): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?next=${encodeURIComponent(nextPath)}`);
  return user;
}
