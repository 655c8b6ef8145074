import type { OnaApi } from "./app";

/**
 * The web server (server.ts) creates the API once and registers it here; Next's route handlers
 * and server components, bundled separately by Next, find the same instance through a global
 * symbol instead of opening a second database connection and a second auth instance.
 */
const KEY = Symbol.for("ona.api");

type Registry = { [KEY]?: OnaApi };

export function registerOnaApi(api: OnaApi): void {
  (globalThis as Registry)[KEY] = api;
}

export function getOnaApi(): OnaApi {
  const api = (globalThis as Registry)[KEY];
  if (!api) throw new Error("the Ona API is not running in this process: start the server with `pnpm start`");
  return api;
}
