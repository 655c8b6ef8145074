import type { Command } from "commander";
import type { PersonalAccessToken } from "@ona/contracts";
import { formatTime, printItem, printList, type Column, type Field } from "../output";
import { argumentAt, type Runner } from "./types";

const tokenColumns: Column<PersonalAccessToken>[] = [
  { header: "ID", value: (t) => t.id },
  { header: "DESCRIPTION", value: (t) => t.description },
  { header: "ACCESS", value: (t) => t.accessLevel },
  { header: "STATUS", value: (t) => t.status },
  { header: "HINT", value: (t) => t.hint },
  { header: "CREATED", value: (t) => formatTime(t.createdAt) },
  { header: "EXPIRES", value: (t) => formatTime(t.expiresAt) },
  { header: "LAST USED", value: (t) => formatTime(t.lastUsed?.at) || "never" },
];

const tokenFields: Field<PersonalAccessToken>[] = [
  { label: "ID", value: (t) => t.id },
  { label: "Description", value: (t) => t.description },
  { label: "Access level", value: (t) => t.accessLevel },
  { label: "Status", value: (t) => t.status },
  { label: "Hint", value: (t) => t.hint },
  { label: "Created", value: (t) => formatTime(t.createdAt) },
  { label: "Expires", value: (t) => formatTime(t.expiresAt) },
  { label: "Revoked", value: (t) => formatTime(t.revokedAt) },
  { label: "Last used", value: (t) => (t.lastUsed ? `${formatTime(t.lastUsed.at)}${t.lastUsed.ip ? ` from ${t.lastUsed.ip}` : ""}` : "never") },
];

export function registerTokenCommands(program: Command, run: Runner): void {
  const token = program
    .command("token")
    .description("list and revoke your personal access tokens (create them in the web UI)");

  token
    .command("list")
    .description("list your tokens, including expired and revoked ones (never their secrets)")
    .action(run(async (app) => {
      const client = app.client();
      const items: PersonalAccessToken[] = [];
      for await (const item of client.tokens.listAll({ pageSize: 100 })) items.push(item);
      if (items.length === 0 && app.format === "table") app.info("no tokens");
      await printList(app.out, app.format, items, tokenColumns);
    }));

  token
    .command("revoke")
    .description("revoke a token: it stops working on the next request")
    .argument("<id>")
    .action(run(async (app, command) => {
      app.errorContext.listCommand = "ona token list";
      const client = app.client();
      const id = argumentAt(command, 0);
      const revoked = await client.tokens.revoke(id);
      app.info(`revoked token ${revoked.id} (${revoked.description})`);
      const stored = app.store.forHost(app.credentials(), client.host);
      if (stored?.tokenId === revoked.id) {
        app.warn(`that is the token stored for ${client.host}: run ona login --token <token> with another one`);
      }
      await printItem(app.out, app.format, revoked, tokenFields);
    }));
}
