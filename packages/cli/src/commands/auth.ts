import type { Command } from "commander";
import { tokenHint, type WhoAmI } from "@ona/contracts";
import { AuthenticationError } from "@ona/sdk";
import { tokenFormatProblem, type App, type Source } from "../app";
import { contextNameOf, sendsInTheClear } from "../credentials";
import { CliError, ExitCode, tokenPage } from "../errors";
import { formatTime, printItem, relativeTime, type Field } from "../output";
import type { Runner } from "./types";

const DAY_MS = 24 * 60 * 60 * 1000;
export const EXPIRY_WARNING_DAYS = 7;

/** Warns on stderr when the token expires within a week. */
function warnIfExpiringSoon(app: App, host: string, whoami: WhoAmI): void {
  const expiresAt = whoami.token?.expiresAt;
  if (!expiresAt) return;
  if (new Date(expiresAt).getTime() - Date.now() < EXPIRY_WARNING_DAYS * DAY_MS) {
    app.warn(
      `this token expires ${relativeTime(expiresAt)} (${formatTime(expiresAt)}): create a new one at ${tokenPage(host)} and run ona login --token <token>`,
    );
  }
}

const whoamiFields = (host: string): Field<WhoAmI>[] => [
  { label: "Host", value: () => host },
  { label: "User", value: (w) => (w.user.name && w.user.name !== w.user.email ? `${w.user.email} (${w.user.name})` : w.user.email) },
  { label: "Role", value: (w) => w.user.role },
  { label: "Token", value: (w) => (w.token ? `${w.token.id} (${w.token.description})` : undefined) },
  { label: "Access level", value: (w) => w.token?.accessLevel },
  { label: "Expires", value: (w) => (w.token ? `${formatTime(w.token.expiresAt)} (${relativeTime(w.token.expiresAt)})` : undefined) },
];

export function registerAuthCommands(program: Command, run: Runner): void {
  program
    .command("login")
    .description("verify a personal access token and store it for this host")
    .option("--token <token>", "the token (default: $ONA_TOKEN)")
    .option("--host <url>", "the Ona server (default: $ONA_HOST, the current context, http://localhost:3000)")
    .addHelpText(
      "after",
      "\nThe token is checked offline (format and checksum), then against the server, then stored in\n$XDG_CONFIG_HOME/ona/credentials.json (mode 0600) as the current context.\n\nExamples:\n  ona login --token ona_pat_…\n  ONA_TOKEN=ona_pat_… ona login --host https://ona.example.com",
    )
    .action(run(async (app) => {
      const { host } = app.resolveHost();
      let token: string | undefined = app.options.token?.trim() || app.io.env.ONA_TOKEN?.trim() || undefined;
      let source: Source | "the prompt" = app.options.token?.trim() ? "--token" : "ONA_TOKEN";
      if (!token) {
        if (!app.io.stdinIsTTY || !app.io.readSecret) {
          throw new CliError("no token given", ExitCode.USAGE, `run ona login --token <token>, or set ONA_TOKEN (create a token at ${tokenPage(host)})`);
        }
        token = (await app.io.readSecret(`Paste a personal access token (create one at ${tokenPage(host)}): `)).trim();
        source = "the prompt";
        if (!token) throw new CliError("no token given", ExitCode.USAGE, `create a token at ${tokenPage(host)} and paste it`);
      }
      app.errorContext.tokenSource = source;
      // Offline first: a mistyped token never leaves the machine.
      const problem = tokenFormatProblem(token, source);
      if (problem) throw new CliError(problem, ExitCode.AUTH, `copy the token again from ${tokenPage(host)} (it is shown once; create a new one if it is lost)`);
      if (sendsInTheClear(host)) {
        app.warn(
          `${host} is plain http and not this machine: the token will cross the network unencrypted, readable by anyone on the way. Use the server's https:// address`,
        );
      }

      let whoami: WhoAmI;
      try {
        whoami = await app.clientFor(host, token).identity.whoami();
      } catch (error) {
        if (error instanceof AuthenticationError) {
          throw new CliError(`${host} refused the token: ${error.message}`, ExitCode.AUTH, `create a new token at ${tokenPage(host)} and run ona login --token <token>`);
        }
        throw error;
      }
      if (!whoami.token) throw new CliError(`${host} did not recognise the credentials as a personal access token`, ExitCode.AUTH);

      const file = app.store.readOrReset();
      const name = contextNameOf(host);
      for (const [other, context] of Object.entries(file.contexts)) {
        if (context.host === host && other !== name) delete file.contexts[other];
      }
      file.contexts[name] = {
        host,
        token,
        tokenId: whoami.token.id,
        tokenHint: tokenHint(token),
        user: whoami.user.email,
        accessLevel: whoami.token.accessLevel,
        expiresAt: whoami.token.expiresAt,
        loggedInAt: new Date().toISOString(),
      };
      file.currentContext = name;
      app.store.write(file);
      app.info(`logged in to ${host} as ${whoami.user.email} (token ${whoami.token.id}, ${whoami.token.accessLevel}, expires ${formatTime(whoami.token.expiresAt)})`);
      warnIfExpiringSoon(app, host, whoami);
    }));

  program
    .command("logout")
    .description("forget the token stored for the current host (the token itself stays valid)")
    .option("--host <url>", "log out of this host instead of the current one")
    .action(run(async (app) => {
      const { host } = app.resolveHost();
      const file = app.credentials();
      const entry = Object.entries(file.contexts).find(([, context]) => context.host === host);
      if (!entry) {
        app.info(`not logged in to ${host}: nothing to do`);
      } else {
        const [name, context] = entry;
        delete file.contexts[name];
        if (file.currentContext === name) file.currentContext = null;
        app.store.write(file);
        app.info(
          `logged out of ${host}: removed the stored token${context.tokenId ? ` ${context.tokenId}` : ""}. It stays valid until it expires; revoke it with ona token revoke ${context.tokenId ?? "<id>"} or at ${tokenPage(host)}`,
        );
      }
      if (app.io.env.ONA_TOKEN?.trim()) app.warn("ONA_TOKEN is still set: commands keep using it until you unset it");
    }));

  program
    .command("whoami")
    .description("show the user and token in use: id, access level, expiry")
    .action(run(async (app) => {
      const client = app.client();
      const whoami = await client.identity.whoami();
      await printItem(app.out, app.format, whoami, whoamiFields(client.host));
      warnIfExpiringSoon(app, client.host, whoami);
    }));
}
