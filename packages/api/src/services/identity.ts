import type { WhoAmI } from "@ona/contracts";
import type { Viewer } from "./viewer";

export function whoami(viewer: Viewer): WhoAmI {
  return {
    user: { id: viewer.userId, email: viewer.email, name: viewer.name, role: viewer.role },
    authMethod: viewer.token ? "token" : "session",
    ...(viewer.token
      ? {
          token: {
            id: viewer.token.id,
            description: viewer.token.description,
            accessLevel: viewer.token.accessLevel,
            expiresAt: viewer.token.expiresAt.toISOString(),
          },
        }
      : {}),
  };
}
