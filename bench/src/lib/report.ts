/** The result model every benchmark returns, the printed table and bench/results.md. */

export type Verdict = "met" | "missed" | "info";

export interface ResultRow {
  measurement: string;
  value: string;
  baseline?: string;
  ratio?: string;
  target?: string;
  verdict: Verdict;
}

export interface SectionResult {
  id: string;
  title: string;
  rows: ResultRow[];
  /** Markdown written under the section in results.md (query plans, profiles, notes). */
  details: string[];
}

export interface Target {
  description: string;
  met: boolean;
}

/** A target row: `verdict` from a comparison. */
export const verdictOf = (met: boolean): Verdict => (met ? "met" : "missed");

const COLUMNS = ["measurement", "value", "baseline", "ratio", "target", "verdict"] as const;
const HEADERS: Record<(typeof COLUMNS)[number], string> = {
  measurement: "Measurement",
  value: "Value",
  baseline: "Baseline",
  ratio: "Ratio",
  target: "Target",
  verdict: "Met?",
};

const verdictText = (verdict: Verdict): string => (verdict === "met" ? "met" : verdict === "missed" ? "MISSED" : "");

function cells(row: ResultRow): string[] {
  return [row.measurement, row.value, row.baseline ?? "", row.ratio ?? "", row.target ?? "", verdictText(row.verdict)];
}

/** A plain-text table for the terminal. */
export function formatTable(sections: SectionResult[]): string {
  const rows = sections.flatMap((section) => section.rows.map(cells));
  const header = COLUMNS.map((column) => HEADERS[column]);
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => (row[index] ?? "").length)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const out: string[] = [line(header), rule];
  for (const section of sections) {
    out.push(`[${section.title}]`);
    for (const row of section.rows) out.push(line(cells(row)));
  }
  return out.join("\n");
}

const escapeCell = (value: string): string => value.replace(/\|/g, "\\|");

export function markdownTable(rows: ResultRow[]): string {
  const header = `| ${COLUMNS.map((column) => HEADERS[column]).join(" | ")} |`;
  const rule = `| ${COLUMNS.map(() => "---").join(" | ")} |`;
  const body = rows.map((row) => `| ${cells(row).map(escapeCell).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

export function targetsOf(sections: SectionResult[]): { met: ResultRow[]; missed: ResultRow[] } {
  const rows = sections.flatMap((section) => section.rows);
  return { met: rows.filter((row) => row.verdict === "met"), missed: rows.filter((row) => row.verdict === "missed") };
}

export const codeBlock = (text: string, language = ""): string => `\`\`\`${language}\n${text.trimEnd()}\n\`\`\``;
