import { createServer } from "node:net";
import { tokenFromRandomBytes } from "@ona/contracts";

/** A port nothing listens on: bound, then closed again. */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export function wellFormedToken(): string {
  const token = tokenFromRandomBytes(crypto.getRandomValues(new Uint8Array(64)));
  if (!token) throw new Error("could not make a token");
  return token;
}

