/**
 * Parses JSON with comments and trailing commas (the "JSONC" devcontainer.json is written
 * in): comments and trailing commas outside strings are removed, then JSON.parse does the rest,
 * so its error messages still point at real mistakes.
 */
export function parseJsonc(text: string): unknown {
  return JSON.parse(stripJsonc(text));
}

export function stripJsonc(text: string): string {
  let out = "";
  let i = 0;
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < source.length) {
    const ch = source[i];
    const next = source[i + 1];
    if (ch === '"') {
      const end = endOfString(source, i);
      out += source.slice(i, end);
      i = end;
    } else if (ch === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (ch === "/" && next === "*") {
      const close = source.indexOf("*/", i + 2);
      i = close === -1 ? source.length : close + 2;
      out += " ";
    } else if (ch === ",") {
      // A comma followed only by whitespace/comments and then } or ] is a trailing comma.
      let j = i + 1;
      for (;;) {
        while (j < source.length && /\s/.test(source[j] ?? "")) j++;
        if (source[j] === "/" && source[j + 1] === "/") {
          while (j < source.length && source[j] !== "\n") j++;
        } else if (source[j] === "/" && source[j + 1] === "*") {
          const close = source.indexOf("*/", j + 2);
          j = close === -1 ? source.length : close + 2;
        } else {
          break;
        }
      }
      if (source[j] !== "}" && source[j] !== "]") out += ",";
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index just past the string starting at `start` (a '"'), honouring backslash escapes. */
function endOfString(source: string, start: number): number {
  let i = start + 1;
  while (i < source.length) {
    if (source[i] === "\\") i += 2;
    else if (source[i] === '"') return i + 1;
    else i++;
  }
  return source.length;
}
