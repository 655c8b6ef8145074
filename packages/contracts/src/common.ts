import { z } from "zod";

/** PostgreSQL's text cannot hold a NUL byte, and no field of ours has a use for one. */
export const hasNoNulBytes = (value: string) => !value.includes("\0");
const NUL_MESSAGE = "must not contain NUL bytes";

/** Ids are opaque strings; validated for length so garbage never reaches a query. */
export const Id = z
  .string()
  .trim()
  .min(1, "an id is required")
  .max(64, "an id is at most 64 characters")
  .refine(hasNoNulBytes, `an id ${NUL_MESSAGE}`);
export type Id = z.infer<typeof Id>;

/** Timestamps travel as ISO-8601 strings in UTC, like protobuf-JSON. */
export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;

/**
 * A timestamp a caller sends (a filter bound): from year 1 on. ISO-8601's year 0000 is 1 BC,
 * which the format allows and PostgreSQL cannot compare with.
 */
export const TimestampInput = Timestamp.refine(
  (value) => new Date(value).getUTCFullYear() >= 1,
  "a timestamp must be between 0001-01-01 and 9999-12-31",
);

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export const PageSize = z
  .number()
  .int("pageSize must be a whole number")
  .min(1, "pageSize must be at least 1")
  .max(MAX_PAGE_SIZE, `pageSize must be at most ${MAX_PAGE_SIZE}`);

/** Cursor pagination: an opaque nextToken from the previous page. */
export const PageRequest = z.object({
  pageSize: PageSize.optional(),
  nextToken: z
    .string()
    .max(200, "nextToken is not one this server issued")
    .refine(hasNoNulBytes, "nextToken is not one this server issued")
    .optional(),
});
export type PageRequest = z.infer<typeof PageRequest>;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextToken: z.string().nullable() });
}
export type Page<T> = { items: T[]; nextToken: string | null };
