/**
 * Personal access token format: `ona_pat_` + 32 base62 characters of randomness + 6 base62
 * characters of CRC32 over everything before them. The checksum lets the CLI, a secret
 * scanner or the server reject a mistyped or made-up token without a database lookup.
 *
 * Pure functions only: generation takes its random bytes from the caller.
 */
export const TOKEN_PREFIX = "ona_pat_";
export const TOKEN_RANDOM_LENGTH = 32;
export const TOKEN_CHECKSUM_LENGTH = 6;
export const TOKEN_LENGTH = TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH}}$`);

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc = (CRC32_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Fixed-width base62 of a non-negative integer, left-padded with zeros. */
export function toBase62(value: number, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0) {
    out = BASE62.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, "0");
}

function checksumOf(body: string): string {
  return toBase62(crc32(body), TOKEN_CHECKSUM_LENGTH);
}

/**
 * Builds a token from random bytes (at least 32; each byte is mapped to base62 by rejection
 * sampling, so the caller should pass a generous buffer — 64 bytes is plenty in practice).
 * Returns null if the bytes ran out before 32 characters were drawn.
 */
export function tokenFromRandomBytes(bytes: Uint8Array): string | null {
  let random = "";
  for (const byte of bytes) {
    // 248 = 4 * 62: values above it would bias the first characters of the alphabet.
    if (byte >= 248) continue;
    random += BASE62.charAt(byte % 62);
    if (random.length === TOKEN_RANDOM_LENGTH) break;
  }
  if (random.length < TOKEN_RANDOM_LENGTH) return null;
  const body = TOKEN_PREFIX + random;
  return body + checksumOf(body);
}

export type TokenFormatProblem = "not-a-token" | "bad-checksum";

/** Checks prefix, length, alphabet and checksum. Touches nothing but the string. */
export function checkTokenFormat(candidate: string): { ok: true } | { ok: false; problem: TokenFormatProblem } {
  if (!TOKEN_PATTERN.test(candidate)) return { ok: false, problem: "not-a-token" };
  const body = candidate.slice(0, TOKEN_LENGTH - TOKEN_CHECKSUM_LENGTH);
  const checksum = candidate.slice(TOKEN_LENGTH - TOKEN_CHECKSUM_LENGTH);
  return checksum === checksumOf(body) ? { ok: true } : { ok: false, problem: "bad-checksum" };
}

export function isWellFormedToken(candidate: string): boolean {
  return checkTokenFormat(candidate).ok;
}

/** The display hint kept next to the hash: `ona_pat_abcd…wxyz` (first and last 4 of the random part). */
export function tokenHint(token: string): string {
  const random = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH);
  return `${TOKEN_PREFIX}${random.slice(0, 4)}…${random.slice(-4)}`;
}
