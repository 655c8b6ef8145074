import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";

/**
 * The header through which the server hands the client address it resolved to better-auth (whose
 * sign-in and sign-up limits count per address). The server sets it on every request it passes
 * on, replacing whatever a client sent under that name, so only the address resolved here counts.
 */
export const CLIENT_ADDRESS_HEADER = "x-ona-client-address";

/**
 * The client's address. With no trusted proxy (`trustedProxyHops` 0) it is the socket's peer.
 * Behind proxies the operator controls, each appends the address it received the request from to
 * X-Forwarded-For; everything to the left of what they appended was written by the client and can
 * be anything. So the address is the one `trustedProxyHops` entries from the right (the right-most
 * with one proxy), counting the socket's peer as the first hop, as proxy-addr does for Express.
 */
export function clientAddressOf(req: IncomingMessage, trustedProxyHops: number): string | null {
  if (!req.socket.remoteAddress) return null;
  const address = proxyAddr(req, (_address, hop) => hop < trustedProxyHops);
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

/** Replaces any client-sent CLIENT_ADDRESS_HEADER with the address resolved here (see above). */
export function setClientAddressHeader(req: IncomingMessage, trustedProxyHops: number): void {
  delete req.headers[CLIENT_ADDRESS_HEADER];
  const address = clientAddressOf(req, trustedProxyHops);
  if (address) req.headers[CLIENT_ADDRESS_HEADER] = address;
}

/** `scheme://host[:port]` of a URL, as browsers write it in Origin (default ports left out), or null. */
export function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}

/**
 * Whether the request's Origin is one of `allowedOrigins` (ONA_PUBLIC_URL and the trusted
 * origins), compared whole: scheme, host and port. A cookie-authenticated change from any other
 * origin, or without one, may have been forged by another site (CSRF).
 */
export function hasAllowedOrigin(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const header = req.headers.origin;
  const origin = header ? originOf(header) : null;
  return origin !== null && allowedOrigins.includes(origin);
}
