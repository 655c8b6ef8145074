import { DEFAULT_PAGE_SIZE, hasNoNulBytes } from "@ona/contracts";
import { ServiceError } from "../errors";

/**
 * Keyset pagination over (createdAt desc, id desc): each page is one indexed range scan,
 * however deep the caller has paged. The cursor is opaque to clients.
 */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString("base64url");
}

/**
 * The dates a page token can carry: those a row's createdAt can have. Anything else was not
 * issued here, and PostgreSQL would refuse JavaScript's extreme dates with an error.
 */
const EARLIEST_CURSOR_MS = Date.UTC(1970, 0, 1);
const LATEST_CURSOR_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function decodeCursor(token: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === "string" &&
      typeof parsed[1] === "string" &&
      hasNoNulBytes(parsed[1])
    ) {
      const createdAt = new Date(parsed[0]);
      const ms = createdAt.getTime();
      if (ms >= EARLIEST_CURSOR_MS && ms <= LATEST_CURSOR_MS) return { createdAt, id: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new ServiceError("VALIDATION", "nextToken is not one this server issued: start from the first page", {
    issues: [{ path: "nextToken", message: "not a valid page token" }],
  });
}

/**
 * The `where` fragment that continues after the cursor: (createdAt, id) < (cursor). Written as
 * `createdAt <= c AND (createdAt < c OR id < i)` rather than `createdAt < c OR (createdAt = c AND
 * id < i)`: the same rows, but the leading range lets SQLite and PostgreSQL start the index scan
 * at the cursor instead of walking every newer row, so a deep page costs what page 1 costs.
 */
export function afterCursor(nextToken: string | undefined) {
  if (!nextToken) return {};
  const cursor = decodeCursor(nextToken);
  return {
    createdAt: { lte: cursor.createdAt },
    OR: [{ createdAt: { lt: cursor.createdAt } }, { id: { lt: cursor.id } }],
  };
}

export const newestFirst = [{ createdAt: "desc" as const }, { id: "desc" as const }];

/** Fetch pageSize + 1 rows; the extra one only tells whether there is a next page. */
export function pageSizeOf(requested: number | undefined): number {
  return requested ?? DEFAULT_PAGE_SIZE;
}

export function toPage<Row extends Cursor, Item>(rows: Row[], pageSize: number, map: (row: Row) => Item) {
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  const nextToken = rows.length > pageSize && last ? encodeCursor(last) : null;
  return { items: items.map(map), nextToken };
}
