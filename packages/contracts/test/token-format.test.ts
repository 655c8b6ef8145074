import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  TOKEN_LENGTH,
  TOKEN_PREFIX,
  checkTokenFormat,
  crc32,
  tokenFromRandomBytes,
  tokenHint,
  toBase62,
} from "../src/token-format";

describe("token format", () => {
  it("computes zlib's CRC-32", () => {
    expect(crc32("")).toBe(0);
    expect(crc32("123456789")).toBe(0xcbf43926);
    expect(crc32("The quick brown fox jumps over the lazy dog")).toBe(0x414fa339);
  });

  it("encodes base62 at a fixed width", () => {
    expect(toBase62(0, 6)).toBe("000000");
    expect(toBase62(61, 6)).toBe("00000z");
    expect(toBase62(62, 6)).toBe("000010");
    expect(toBase62(0xffffffff, 6)).toBe("4gfFC3");
  });

  it("makes tokens of the documented shape that pass their own check", () => {
    for (let i = 0; i < 200; i++) {
      const token = tokenFromRandomBytes(randomBytes(64));
      expect(token).not.toBeNull();
      const value = token ?? "";
      expect(value).toHaveLength(TOKEN_LENGTH);
      expect(value.startsWith(TOKEN_PREFIX)).toBe(true);
      expect(value.slice(TOKEN_PREFIX.length)).toMatch(/^[0-9A-Za-z]{38}$/);
      expect(checkTokenFormat(value)).toEqual({ ok: true });
    }
  });

  it("returns null when the random bytes run out", () => {
    expect(tokenFromRandomBytes(new Uint8Array(10))).toBeNull();
    expect(tokenFromRandomBytes(new Uint8Array(64).fill(250))).toBeNull();
  });

  it("rejects a changed character through the checksum", () => {
    const token = tokenFromRandomBytes(randomBytes(64)) ?? "";
    const position = TOKEN_PREFIX.length + 5;
    const original = token.charAt(position);
    const changed = token.slice(0, position) + (original === "a" ? "b" : "a") + token.slice(position + 1);
    expect(checkTokenFormat(changed)).toEqual({ ok: false, problem: "bad-checksum" });
  });

  it.each([
    ["empty", ""],
    ["prefix only", TOKEN_PREFIX],
    ["wrong prefix", "ghp_0123456789abcdefghijABCDEFGHIJ012345"],
    ["truncated", "ona_pat_0123456789"],
    ["non-base62", "ona_pat_0123456789abcdefghij-BCDEFGHIJKLMNOPQRS"],
    ["unicode look-alike", "ona_pat_0123456789abcdefghijАBCDEFGHIJKLMNOPQ"],
    ["trailing newline", `${tokenFromRandomBytes(randomBytes(64)) ?? ""}\n`],
    ["inner space", "ona_pat_0123456789abcdefghij BCDEFGHIJKLMNOPQR"],
  ])("rejects %s without looking further", (_name, candidate) => {
    expect(checkTokenFormat(candidate)).toEqual({ ok: false, problem: "not-a-token" });
  });

  it("rejects one extra character", () => {
    const token = tokenFromRandomBytes(randomBytes(64)) ?? "";
    expect(checkTokenFormat(`${token}a`).ok).toBe(false);
  });

  it("hints with the first and last four characters of the random part", () => {
    const token = `${TOKEN_PREFIX}abcd${"x".repeat(24)}wxyz000000`;
    expect(tokenHint(token)).toBe("ona_pat_abcd…wxyz");
  });
});
