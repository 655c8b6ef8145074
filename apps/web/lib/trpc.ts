import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter, RouterInputs, RouterOutputs } from "@ona/api";

/**
 * The browser's typed client for the API. Same origin, so the session cookie and the Origin
 * header go with every call; plain JSON (the server uses no transformer). Only the router's
 * *type* comes from @ona/api: no server code reaches the browser bundle.
 */
export const api = createTRPCClient<AppRouter>({
  links: [httpLink({ url: "/api/trpc" })],
});

export type { AppRouter, RouterInputs, RouterOutputs };
