import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { Option, type Command } from "commander";
import {
  EnvironmentPhase,
  MAX_EXEC_TIMEOUT_SECONDS,
  phaseFromShortName,
  shortPhase,
  type Environment,
  type EnvironmentClass,
  type LogLine,
} from "@ona/contracts";
import { DEFAULT_WAIT_TIMEOUT_MS, formatDuration, type OnaClient } from "@ona/sdk";
import type { App } from "../app";
import { parseDuration } from "../duration";
import { CliError, ExitCode } from "../errors";
import { formatTime, printItem, printList, type Column, type Field } from "../output";
import { argumentAt, variadicAt, type Runner } from "./types";

const LIST = "ona environment list";

function phaseText(environment: Environment): string {
  const { phase, failureMessage } = environment.status;
  const desired = environment.spec.desiredPhase;
  // A failed attempt is not retried until asked again: show where it stopped, not where it was headed.
  if (failureMessage.length > 0) return `${shortPhase(phase)} (failed)`;
  return phase === desired || desired === "ENVIRONMENT_PHASE_UNSPECIFIED" ? shortPhase(phase) : `${shortPhase(phase)} → ${shortPhase(desired)}`;
}

const contextUrlOf = (environment: Environment) =>
  environment.spec.content.initializer.specs.map((spec) => spec.contextUrl.url).join(", ");

export const environmentColumns: Column<Environment>[] = [
  { header: "ID", value: (e) => e.id },
  { header: "NAME", value: (e) => e.metadata.name },
  { header: "PHASE", value: phaseText },
  { header: "CLASS", value: (e) => e.spec.machine.class },
  { header: "CONTEXT", value: contextUrlOf },
  { header: "CREATED", value: (e) => formatTime(e.metadata.createdAt) },
];

export const environmentFields: Field<Environment>[] = [
  { label: "ID", value: (e) => e.id },
  { label: "Name", value: (e) => e.metadata.name },
  { label: "Phase", value: phaseText },
  { label: "Class", value: (e) => e.spec.machine.class },
  { label: "Context URL", value: contextUrlOf },
  { label: "Runner", value: (e) => e.metadata.runnerId },
  { label: "Created", value: (e) => formatTime(e.metadata.createdAt) },
  { label: "Last started", value: (e) => formatTime(e.metadata.lastStartedAt) },
  { label: "Failure", value: (e) => e.status.failureMessage.join("; ") },
  { label: "Warnings", value: (e) => e.status.warningMessage.join("; ") },
];

const classColumns: Column<EnvironmentClass>[] = [
  { header: "ID", value: (c) => c.id },
  { header: "NAME", value: (c) => c.displayName },
  { header: "DESCRIPTION", value: (c) => c.description },
  { header: "CONFIGURATION", value: (c) => c.configuration.map(({ key, value }) => `${key}=${value}`).join(" ") },
  { header: "RUNNER", value: (c) => c.runnerId },
  { header: "ENABLED", value: (c) => (c.enabled ? "yes" : "no") },
];

/** `--phase running --phase stopped,deleted` → the contract's phases; a usage error otherwise. */
export function parsePhases(values: readonly string[]): EnvironmentPhase[] {
  return values
    .flatMap((value) => value.split(","))
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => {
      const phase = phaseFromShortName(name);
      if (!phase || phase === "ENVIRONMENT_PHASE_UNSPECIFIED") {
        const valid = EnvironmentPhase.options.filter((p) => p !== "ENVIRONMENT_PHASE_UNSPECIFIED").map(shortPhase);
        throw new CliError(`unknown phase "${name}"`, ExitCode.USAGE, `use one of ${valid.join(", ")}`);
      }
      return phase;
    });
}

/** A context URL that names a folder on this machine is sent as an absolute path. */
export function resolveContextUrl(url: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/\s]+@[^/\s]+:/.test(url) || isAbsolute(url)) return url;
  const local = resolve(cwd, url);
  return existsSync(local) ? local : url;
}

function timeoutOf(command: Command): number {
  const { timeout } = command.opts<{ timeout?: string }>();
  return timeout === undefined ? DEFAULT_WAIT_TIMEOUT_MS : parseDuration(timeout);
}

/** Waits for the phase with progress on stderr; the environment as reached, or the SDK's error. */
async function waitWithProgress(app: App, client: OnaClient, since: Environment, phase: EnvironmentPhase, timeoutMs: number): Promise<Environment> {
  const started = Date.now();
  let lastPhase: EnvironmentPhase | null = since.status.phase;
  const reached = await client.environments.waitFor(since.id, phase, {
    since,
    timeoutMs,
    onProgress: (environment) => {
      if (environment.status.phase !== lastPhase) {
        lastPhase = environment.status.phase;
        app.info(`  ${shortPhase(environment.status.phase)}`);
      }
    },
  });
  app.info(`environment ${reached.id} is ${shortPhase(phase)} (${formatDuration(Date.now() - started)})`);
  return reached;
}

function exitCodeOfRemote(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : ExitCode.ERROR;
}

const timeoutOption = () =>
  new Option("--timeout <duration>", `how long to wait, e.g. 90s, 5m (default ${formatDuration(DEFAULT_WAIT_TIMEOUT_MS)}); exit code 6 when it runs out`);

export function registerEnvironmentCommands(program: Command, run: Runner): void {
  const environment = program
    .command("environment")
    .alias("env")
    .description("create, list, start, stop, delete environments; run commands in them")
    .addHelpText("after", "\nExamples:\n  ona environment create https://github.com/org/repo --class-id local-small\n  ona env list --phase running -o json\n  ona env exec <id> -- npm test");

  environment
    .command("create")
    .description("create an environment from a context URL (anything git can clone) and wait until it runs")
    .argument("<context-url>", "repository URL or local path")
    .option("--class-id <id>", "environment class (see ona environment list-classes; default: the first enabled)")
    .option("--name <name>", "a name (default: the repository's)")
    .option("--dont-wait", "print the new environment's id and return at once")
    .addOption(timeoutOption())
    .action(run(async (app, command) => {
      const options = command.opts<{ classId?: string; name?: string; dontWait?: boolean }>();
      const timeoutMs = timeoutOf(command);
      const client = app.client();
      app.errorContext.listCommand = "ona environment list-classes";
      const created = await client.environments.create({
        contextUrl: resolveContextUrl(argumentAt(command, 0), app.io.cwd),
        ...(options.classId !== undefined ? { classId: options.classId } : {}),
        ...(options.name !== undefined ? { name: options.name } : {}),
      });
      if (options.dontWait) {
        app.out.write(`${created.id}\n`);
        return;
      }
      app.info(`created environment ${created.id} (${created.metadata.name}, class ${created.spec.machine.class}); waiting for it to run…`);
      app.info(`  ${shortPhase(created.status.phase)}`);
      const running = await waitWithProgress(app, client, created, "ENVIRONMENT_PHASE_RUNNING", timeoutMs);
      await printItem(app.out, app.format, running, environmentFields);
    }));

  environment
    .command("list")
    .description("list your environments (all but deleted ones, newest first)")
    .option("--phase <phase>", "only these phases (repeatable; running, stopped, creating, …)", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(run(async (app, command) => {
      const phases = parsePhases(command.opts<{ phase: string[] }>().phase);
      const client = app.client();
      const items: Environment[] = [];
      for await (const item of client.environments.listAll({ pageSize: 100, ...(phases.length > 0 ? { phases } : {}) })) items.push(item);
      if (items.length === 0 && app.format === "table") app.info("no environments");
      await printList(app.out, app.format, items, environmentColumns);
    }));

  environment
    .command("get")
    .description("show one environment")
    .argument("<id>")
    .action(run(async (app, command) => {
      app.errorContext.listCommand = LIST;
      const found = await app.client().environments.get(argumentAt(command, 0));
      await printItem(app.out, app.format, found, environmentFields);
    }));

  for (const [verb, phase, description] of [
    ["start", "ENVIRONMENT_PHASE_RUNNING", "start a stopped environment and wait until it runs"],
    ["stop", "ENVIRONMENT_PHASE_STOPPED", "stop an environment and wait until it has stopped"],
  ] as const) {
    environment
      .command(verb)
      .description(description)
      .argument("<id>")
      .addOption(timeoutOption())
      .action(run(async (app, command) => {
        const timeoutMs = timeoutOf(command);
        app.errorContext.listCommand = LIST;
        const client = app.client();
        const id = argumentAt(command, 0);
        const changed = verb === "start" ? await client.environments.start(id) : await client.environments.stop(id);
        let result = changed;
        if (changed.status.phase !== phase || changed.spec.desiredPhase !== phase) {
          app.info(`${verb === "start" ? "starting" : "stopping"} environment ${id}…`);
          result = await waitWithProgress(app, client, changed, phase, timeoutMs);
        } else {
          app.info(`environment ${id} is already ${shortPhase(phase)}`);
        }
        await printItem(app.out, app.format, result, environmentFields);
      }));
  }

  environment
    .command("delete")
    .description("delete an environment (stopping it first); its folder is removed")
    .argument("<id>")
    .action(run(async (app, command) => {
      app.errorContext.listCommand = LIST;
      const id = argumentAt(command, 0);
      const deleted = await app.client().environments.delete(id);
      app.info(`environment ${id} is being deleted`);
      await printItem(app.out, app.format, deleted, environmentFields);
    }));

  environment
    .command("exec")
    .description("run a command in a running environment; exits with the command's exit code")
    .argument("<id>")
    .argument("<command...>", "the command and its arguments, after --")
    .option("--timeout <duration>", `stop the command after this long (default 60s, at most ${MAX_EXEC_TIMEOUT_SECONDS}s)`)
    .addHelpText("after", "\nPut -- before the command so that its options are not taken for ona's:\n  ona environment exec <id> -- ls -la")
    .action(run(async (app, command) => {
      app.errorContext.listCommand = LIST;
      const { timeout } = command.opts<{ timeout?: string }>();
      const timeoutSeconds = timeout === undefined ? undefined : Math.ceil(parseDuration(timeout) / 1000);
      if (timeoutSeconds !== undefined && timeoutSeconds > MAX_EXEC_TIMEOUT_SECONDS) {
        throw new CliError(`--timeout is at most ${MAX_EXEC_TIMEOUT_SECONDS}s for exec`, ExitCode.USAGE);
      }
      const id = argumentAt(command, 0);
      const result = await app.client().environments.exec({
        id,
        command: variadicAt(command, 1),
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      });
      if (app.format === "table") {
        app.out.write(result.stdout);
        app.io.stderr.write(result.stderr);
      } else {
        await printItem(app.out, app.format, result, []);
      }
      if (result.truncated) app.warn("the output was cut: it exceeded the size the server keeps");
      if (result.timedOut) app.warn(`the command was stopped because it ran past its time limit${timeoutSeconds ? ` (${timeoutSeconds}s)` : ""}`);
      app.exitCode = exitCodeOfRemote(result.exitCode);
    }));

  environment
    .command("logs")
    .description("show an environment's log: clone, setup and runner messages")
    .argument("<id>")
    .action(run(async (app, command) => {
      app.errorContext.listCommand = LIST;
      const { lines } = await app.client().environments.logs({ id: argumentAt(command, 0) });
      if (app.format === "table") {
        for (const line of lines) app.out.write(formatLogLine(line));
        if (lines.length === 0) app.info("no log lines yet");
      } else {
        await printList(app.out, app.format, lines, []);
      }
    }));

  environment
    .command("list-classes")
    .description("list the environment classes you can pass to create --class-id")
    .action(run(async (app) => {
      const { items } = await app.client().environmentClasses.list();
      await printList(app.out, app.format, items, classColumns);
    }));
}

function formatLogLine(line: LogLine): string {
  return `${formatTime(line.at)}  ${line.stream.padEnd(6)}  ${line.text}\n`;
}
