/**
 * Text people or programs wrote (a token's description, an environment's name, a log line, a user
 * agent…). React escapes it, so it never becomes markup; it is also shown in a bidi isolate of its
 * own, so direction controls in it (U+202E and the like) reorder only the text itself, never the
 * page around it.
 */
export function UserText({ text }: { text: string }) {
  return <bdi>{text}</bdi>;
}

/**
 * The same isolation for visible text that must be a plain string (dialog titles, tooltips,
 * <option>): first-strong isolate … pop directional isolate around the text. (Not for aria-label:
 * it is read, not shown, and the marks would only get in the way of finding an element by name.)
 */
export function isolated(text: string): string {
  return `\u2068${text}\u2069`;
}
