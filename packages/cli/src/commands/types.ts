import type { Command } from "commander";
import type { App } from "../app";

/** A command's body: gets the App (options, credentials, client, output) and its Command. */
export type Action = (app: App, command: Command) => Promise<void>;

/** Wraps a command's body into a commander action. */
export type Runner = (action: Action) => (...args: unknown[]) => Promise<void>;

/** The positional argument at `index`, as commander parsed it. */
export function argumentAt(command: Command, index: number): string {
  const value: unknown = command.processedArgs[index];
  if (typeof value !== "string") throw new Error(`argument ${index} is missing`);
  return value;
}

/** A variadic positional argument (`<command...>`). */
export function variadicAt(command: Command, index: number): string[] {
  const value: unknown = command.processedArgs[index];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) throw new Error(`argument ${index} is missing`);
  return value;
}
