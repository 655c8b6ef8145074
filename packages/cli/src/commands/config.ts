import type { Command } from "commander";
import { CliError, ExitCode } from "../errors";
import { formatTime, printList, type Column } from "../output";
import { argumentAt, type Runner } from "./types";

/** A stored context as `config context list` shows it: everything but the token itself. */
export interface ContextView {
  name: string;
  current: boolean;
  host: string;
  user: string | null;
  tokenId: string | null;
  tokenHint: string | null;
  accessLevel: string | null;
  expiresAt: string | null;
}

const contextColumns: Column<ContextView>[] = [
  { header: "CURRENT", value: (c) => (c.current ? "*" : "") },
  { header: "NAME", value: (c) => c.name },
  { header: "HOST", value: (c) => c.host },
  { header: "USER", value: (c) => c.user ?? "" },
  { header: "TOKEN", value: (c) => [c.tokenId, c.tokenHint && `(${c.tokenHint})`].filter(Boolean).join(" ") },
  { header: "ACCESS", value: (c) => c.accessLevel ?? "" },
  { header: "EXPIRES", value: (c) => formatTime(c.expiresAt) },
];

const NO_CONTEXT_HINT = "ona config context list shows the stored contexts";

export function registerConfigCommands(program: Command, run: Runner): void {
  const config = program.command("config").description("the CLI's own settings");
  const context = config
    .command("context")
    .description("the hosts you are logged in to; the current one is used when neither --host nor ONA_HOST is given");

  context
    .command("list")
    .description("list the stored contexts (never their tokens)")
    .action(run(async (app) => {
      const file = app.credentials();
      const views: ContextView[] = Object.entries(file.contexts).map(([name, stored]) => ({
        name,
        current: name === file.currentContext,
        host: stored.host,
        user: stored.user ?? null,
        tokenId: stored.tokenId ?? null,
        tokenHint: stored.tokenHint ?? null,
        accessLevel: stored.accessLevel ?? null,
        expiresAt: stored.expiresAt ?? null,
      }));
      if (views.length === 0 && app.format === "table") app.info("no contexts: run ona login --token <token>");
      await printList(app.out, app.format, views, contextColumns);
    }));

  context
    .command("use")
    .description("make a stored context the current one")
    .argument("<name>", "a context name or host URL")
    .action(run(async (app, command) => {
      const file = app.credentials();
      const found = app.store.find(file, argumentAt(command, 0));
      if (!found) throw new CliError(`there is no context "${argumentAt(command, 0)}"`, ExitCode.NOT_FOUND, NO_CONTEXT_HINT);
      file.currentContext = found[0];
      app.store.write(file);
      app.info(`switched to ${found[0]} (${found[1].host})`);
    }));

  context
    .command("delete")
    .description("forget a stored context and its token (the token stays valid)")
    .argument("<name>", "a context name or host URL")
    .action(run(async (app, command) => {
      const file = app.credentials();
      const found = app.store.find(file, argumentAt(command, 0));
      if (!found) throw new CliError(`there is no context "${argumentAt(command, 0)}"`, ExitCode.NOT_FOUND, NO_CONTEXT_HINT);
      delete file.contexts[found[0]];
      if (file.currentContext === found[0]) file.currentContext = null;
      app.store.write(file);
      app.info(`deleted context ${found[0]}`);
    }));
}
