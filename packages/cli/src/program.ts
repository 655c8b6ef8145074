import { Command, CommanderError, Option } from "commander";
import { App, VERSION, type GlobalOptions, type Io } from "./app";
import { registerAuditLogCommands } from "./commands/audit-logs";
import { registerAuthCommands } from "./commands/auth";
import { registerCompletionCommand } from "./commands/completion";
import { registerConfigCommands } from "./commands/config";
import { registerEnvironmentCommands } from "./commands/environment";
import { registerTokenCommands } from "./commands/token";
import type { Runner } from "./commands/types";
import { describeError, ExitCode, formatError, type ErrorContext } from "./errors";
import { FORMATS } from "./output";

const EXIT_CODES_HELP = `
Exit codes:
  0  success (exec: the remote command's exit code)
  1  error
  2  usage: a missing or invalid argument or option
  4  authentication or permission: not logged in, a bad/expired/revoked token, a read-only token on a write
  5  not found
  6  timed out waiting (create, start, stop --timeout)

Environment:
  ONA_TOKEN  personal access token (after --token, before the stored one)
  ONA_HOST   server URL (after --host, before the current context; default http://localhost:3000)`;

/** Builds the command tree. `run` turns a command body into its action. */
export function buildProgram(io: Io, run: Runner): Command {
  const program = new Command("ona");
  program
    .description("Ona: cloud development environments from the terminal")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError("(run with --help for usage)")
    .version(VERSION, "-V, --version", "print the version")
    .addOption(new Option("-o, --output <format>", "output format").choices(FORMATS).default("table"))
    .option("--host <url>", "the Ona server (default: $ONA_HOST, the current context, http://localhost:3000)")
    .option("--token <token>", "personal access token (default: $ONA_TOKEN, then the stored one)")
    .option("--verbose", "log requests, and show stack traces on errors")
    .helpOption("-h, --help", "show help")
    .addHelpText("after", EXIT_CODES_HELP);
  registerAuthCommands(program, run);
  registerEnvironmentCommands(program, run);
  registerTokenCommands(program, run);
  registerAuditLogCommands(program, run);
  registerConfigCommands(program, run);
  registerCompletionCommand(program, run);
  return program;
}

/** Runs the CLI on these arguments; resolves with the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const errorContext: ErrorContext = { host: undefined, tokenSource: undefined };
  const verbose = argv.slice(0, argv.includes("--") ? argv.indexOf("--") : argv.length).includes("--verbose");
  let exitCode: number = ExitCode.OK;

  const run: Runner = (action) => async (...args) => {
    const command = args.at(-1);
    if (!(command instanceof Command)) throw new Error("commander called an action without its command");
    const app = new App(io, command.optsWithGlobals<GlobalOptions>(), errorContext);
    await action(app, command);
    exitCode = app.exitCode;
  };

  try {
    await buildProgram(io, run).parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version asked for: success. Anything else commander refuses is a usage error
      // (it has already printed what was wrong, with a pointer to --help).
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" ? ExitCode.OK : ExitCode.USAGE;
    }
    const described = describeError(error, errorContext);
    io.stderr.write(formatError(error, described, verbose));
    return described.exitCode;
  }
}
