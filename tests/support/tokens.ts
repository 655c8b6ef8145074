import { randomBytes } from "node:crypto";
import { TOKEN_PREFIX, TOKEN_RANDOM_LENGTH, crc32, toBase62, tokenFromRandomBytes } from "@ona/contracts";

/** A token in the right format with a right checksum that no server issued: it passes the format check and reaches the lookup. */
export function unissuedToken(): string {
  for (;;) {
    const token = tokenFromRandomBytes(randomBytes(64));
    if (token) return token;
  }
}

/** `token` with one character of its random part changed and the checksum recomputed: well-formed, but not the secret. */
export function nearMissOf(token: string, index: number): string {
  const body = token.slice(0, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH);
  const position = TOKEN_PREFIX.length + (index % TOKEN_RANDOM_LENGTH);
  const changed = body.slice(0, position) + (body.charAt(position) === "Q" ? "R" : "Q") + body.slice(position + 1);
  return changed + toBase62(crc32(changed), 6);
}
