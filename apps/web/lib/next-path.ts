export const DEFAULT_SIGNED_IN_PATH = "/settings/personal-access-tokens";

/** Where to go after signing in: a path on this site only, never another origin. */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return DEFAULT_SIGNED_IN_PATH;
  return next;
}
