
export const FORMATS = ["table", "json", "yaml"] as const;
export type Format = (typeof FORMATS)[number];

export interface Writer {
  write(text: string): unknown;
}

/** A table column, typed against the rows it shows. */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** A line of a single object's table view: `Label:  value`. */
export interface Field<T> {
  label: string;
  value: (item: T) => string | undefined;
}

const BLANK_BORDERS = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "",
  right: "", "right-mid": "", middle: "   ",
};

/**
 * Borderless, colourless columns (like kubectl and gh): easy to read, to grep and to cut.
 * cli-table3 and yaml are loaded when first needed: a command printing JSON does not pay for them.
 */
export async function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): Promise<string> {
  const { default: Table } = await import("cli-table3");
  const table = new Table({
    head: columns.map((column) => column.header),
    chars: BLANK_BORDERS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
  });
  for (const row of rows) table.push(columns.map((column) => column.value(row)));
  return `${table
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")}\n`;
}

export function renderFields<T>(item: T, fields: readonly Field<T>[]): string {
  const present = fields.flatMap((field) => {
    const value = field.value(item);
    return value === undefined || value === "" ? [] : [{ label: `${field.label}:`, value }];
  });
  const width = Math.max(0, ...present.map((field) => field.label.length));
  return present.map((field) => `${field.label.padEnd(width)}  ${field.value}\n`).join("");
}

async function serialize(data: unknown, format: "json" | "yaml"): Promise<string> {
  if (format === "json") return `${JSON.stringify(data, null, 2)}\n`;
  const { stringify } = await import("./yaml");
  return stringify(data);
}

/** The one writer for data on stdout: a list is a table, or a JSON/YAML array of the items. */
export async function printList<T>(out: Writer, format: Format, rows: readonly T[], columns: readonly Column<T>[]): Promise<void> {
  if (format === "table") {
    if (rows.length > 0) out.write(await renderTable(rows, columns));
    return;
  }
  out.write(await serialize(rows, format));
}

/** A single object: `Label: value` lines, or the object itself as JSON/YAML. */
export async function printItem<T>(out: Writer, format: Format, item: T, fields: readonly Field<T>[]): Promise<void> {
  out.write(format === "table" ? renderFields(item, fields) : await serialize(item, format));
}

/** `2030-01-01T10:00:00.000Z` → `2030-01-01 10:00:00Z`: short enough for a column. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** "in 3 days", "2 hours ago": relative to now. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const delta = new Date(iso).getTime() - now;
  const abs = Math.abs(delta);
  const units: [number, string][] = [
    [24 * 60 * 60 * 1000, "day"],
    [60 * 60 * 1000, "hour"],
    [60 * 1000, "minute"],
  ];
  for (const [size, name] of units) {
    if (abs >= size) {
      const count = Math.floor(abs / size);
      const text = `${count} ${name}${count === 1 ? "" : "s"}`;
      return delta >= 0 ? `in ${text}` : `${text} ago`;
    }
  }
  return delta >= 0 ? "in less than a minute" : "just now";
}
