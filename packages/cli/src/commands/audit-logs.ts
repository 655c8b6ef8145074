import type { Command } from "commander";
import { AuditAction, MAX_PAGE_SIZE, type AuditLogEntry } from "@ona/contracts";
import { CliError, ExitCode } from "../errors";
import { formatTime, printList, type Column } from "../output";
import type { Runner } from "./types";

export const DEFAULT_AUDIT_LIMIT = 50;

const auditColumns: Column<AuditLogEntry>[] = [
  { header: "TIME", value: (e) => formatTime(e.createdAt) },
  { header: "ACTION", value: (e) => e.action },
  { header: "OUTCOME", value: (e) => e.outcome },
  { header: "SUBJECT", value: (e) => (e.subjectId ? `${e.subjectType} ${e.subjectId}` : e.subjectType) },
  { header: "TOKEN", value: (e) => e.tokenId ?? "" },
  { header: "IP", value: (e) => e.ip ?? "" },
  { header: "REASON", value: (e) => e.reason ?? "" },
];

function parseLimit(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new CliError(`--limit "${text}" is not a positive whole number`, ExitCode.USAGE, "e.g. --limit 100");
  }
  return Number(text);
}

function parseAction(text: string): AuditAction {
  const action = AuditAction.options.find((known) => known === text.trim());
  if (!action) throw new CliError(`unknown action "${text}"`, ExitCode.USAGE, `use one of ${AuditAction.options.join(", ")}`);
  return action;
}

export function registerAuditLogCommands(program: Command, run: Runner): void {
  program
    .command("audit-logs")
    .description("show the audit log: who did what, with which token, and whether it went through")
    .option("--token-id <id>", "only what this token did")
    .option("--subject-id <id>", "only what was done to this environment, token, …")
    .option("--action <action>", "only this action, e.g. environment.create, token.revoke")
    .option("--limit <n>", `at most this many entries, newest first (default ${DEFAULT_AUDIT_LIMIT})`)
    .action(run(async (app, command) => {
      const options = command.opts<{ tokenId?: string; subjectId?: string; action?: string; limit?: string }>();
      const limit = options.limit === undefined ? DEFAULT_AUDIT_LIMIT : parseLimit(options.limit);
      const action = options.action === undefined ? undefined : parseAction(options.action);
      const client = app.client();
      const entries: AuditLogEntry[] = [];
      const filter = {
        pageSize: Math.min(limit, MAX_PAGE_SIZE),
        ...(options.tokenId !== undefined ? { tokenId: options.tokenId } : {}),
        ...(options.subjectId !== undefined ? { subjectId: options.subjectId } : {}),
        ...(action !== undefined ? { action } : {}),
      };
      for await (const entry of client.auditLogs.listAll(filter)) {
        entries.push(entry);
        if (entries.length >= limit) break;
      }
      if (entries.length === 0 && app.format === "table") app.info("no audit log entries match");
      await printList(app.out, app.format, entries, auditColumns);
    }));
}
