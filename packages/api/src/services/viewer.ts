import type { AccessLevel, UserRole } from "@ona/contracts";

/** The authenticated caller as services see it. */
export interface Viewer {
  userId: string;
  email: string;
  name: string;
  role: UserRole;
  /** Set when the call came with a personal access token. */
  token: { id: string; description: string; accessLevel: AccessLevel; expiresAt: Date } | null;
}
