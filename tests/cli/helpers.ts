import { tokenFromRandomBytes } from "@ona/contracts";

/** A port nothing listens on: bound, then closed again. */
export { freePort as closedPort } from "../support/processes";

export function wellFormedToken(): string {
  const token = tokenFromRandomBytes(crypto.getRandomValues(new Uint8Array(64)));
  if (!token) throw new Error("could not make a token");
  return token;
}

