import type { Command, Option } from "commander";
import { AuditAction, EnvironmentPhase, shortPhase } from "@ona/contracts";
import { CliError, ExitCode } from "../errors";
import { FORMATS } from "../output";
import { argumentAt, type Runner } from "./types";

export const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

interface Node {
  /** Canonical path, e.g. ["environment", "create"]. */
  path: string[];
  names: string[];
  description: string;
  children: Node[];
  options: Option[];
}

function treeOf(command: Command, path: string[] = []): Node {
  return {
    path,
    names: [command.name(), ...command.aliases()],
    description: command.description(),
    options: command.options.filter((option) => !option.hidden),
    children: command.commands.map((child) => treeOf(child, [...path, child.name()])),
  };
}

function flatten(node: Node): Node[] {
  return [node, ...node.children.flatMap(flatten)];
}

const PHASES = EnvironmentPhase.options.filter((p) => p !== "ENVIRONMENT_PHASE_UNSPECIFIED").map(shortPhase);

/** Fixed values some options and arguments take. */
function valuesOf(flag: string): string[] | undefined {
  if (flag === "--output") return [...FORMATS];
  if (flag === "--phase") return PHASES;
  if (flag === "--action") return [...AuditAction.options];
  return undefined;
}

const flagsOf = (option: Option) => [option.short, option.long].filter((flag): flag is string => Boolean(flag));
const takesValue = (option: Option) => option.required || option.optional;

function bash(root: Node): string {
  const nodes = flatten(root);
  const all = nodes.flatMap((node) => node.options);
  const valueFlags = [...new Set(all.filter(takesValue).flatMap(flagsOf))];
  const fixed = [...new Set(all.flatMap(flagsOf))].flatMap((flag) => {
    const option = all.find((o) => flagsOf(o).includes(flag));
    const values = option?.long ? valuesOf(option.long) : undefined;
    return values ? [`    ${flag}) COMPREPLY=($(compgen -W "${values.join(" ")}" -- "$cur")); return ;;`] : [];
  });
  // Each word that descends a level: "<parent path>/<name or alias>" → canonical path.
  const steps = nodes.flatMap((node) =>
    node.children.flatMap((child) => child.names.map((name) => `      "${node.path.join("/")}/${name}") path="${child.path.join("/")}" ;;`)),
  );
  const words = nodes.map((node) => {
    const candidates = [...node.children.flatMap((child) => child.names), ...node.options.flatMap(flagsOf), ...root.options.flatMap(flagsOf), "--help"];
    if (node.path.join("/") === "completion") candidates.push(...SHELLS);
    return `    "${node.path.join("/")}") words="${[...new Set(candidates)].join(" ")}" ;;`;
  });
  return `# bash completion for ona: source <(ona completion bash)
_ona_completion() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path="" words="" word i skip=0
  case "$prev" in
${fixed.join("\n")}
    ${valueFlags.join("|")}) return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$word" in
      --) return ;;
      ${valueFlags.join("|")}) skip=1; continue ;;
      -*) continue ;;
    esac
    case "$path/$word" in
${steps.join("\n")}
    esac
  done
  case "$path" in
${words.join("\n")}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _ona_completion ona
`;
}

function zsh(root: Node): string {
  return `#compdef ona
# zsh completion for ona: source <(ona completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(root).split("\n").slice(1).join("\n")}`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function fish(root: Node): string {
  const lines = ["# fish completion for ona: ona completion fish | source", "complete -c ona -f"];
  for (const option of root.options) {
    const values = option.long ? valuesOf(option.long) : undefined;
    lines.push(
      [
        "complete -c ona",
        option.short ? `-s ${option.short.replace(/^-/, "")}` : "",
        option.long ? `-l ${option.long.replace(/^--/, "")}` : "",
        takesValue(option) ? (values ? `-x -a ${fishQuote(values.join(" "))}` : "-r") : "",
        `-d ${fishQuote(option.description)}`,
      ].filter(Boolean).join(" "),
    );
  }
  for (const node of flatten(root)) {
    const condition =
      node.path.length === 0
        ? "__fish_use_subcommand"
        : `__fish_seen_subcommand_from ${node.names.join(" ")}; and not __fish_seen_subcommand_from ${node.children.flatMap((child) => child.names).join(" ") || "--"}`;
    for (const child of node.children) {
      for (const name of child.names) {
        lines.push(`complete -c ona -n ${fishQuote(condition)} -a ${name} -d ${fishQuote(child.description)}`);
      }
    }
    if (node.path.join("/") === "completion") lines.push(`complete -c ona -n ${fishQuote(`__fish_seen_subcommand_from completion`)} -a ${fishQuote(SHELLS.join(" "))}`);
    if (node.path.length === 0) continue;
    for (const option of node.options) {
      const values = option.long ? valuesOf(option.long) : undefined;
      lines.push(
        [
          `complete -c ona -n ${fishQuote(`__fish_seen_subcommand_from ${node.names.join(" ")}`)}`,
          option.short ? `-s ${option.short.replace(/^-/, "")}` : "",
          option.long ? `-l ${option.long.replace(/^--/, "")}` : "",
          takesValue(option) ? (values ? `-x -a ${fishQuote(values.join(" "))}` : "-r") : "",
          `-d ${fishQuote(option.description)}`,
        ].filter(Boolean).join(" "),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

export function completionScript(program: Command, shell: Shell): string {
  const root = treeOf(program);
  return shell === "bash" ? bash(root) : shell === "zsh" ? zsh(root) : fish(root);
}

export function registerCompletionCommand(program: Command, run: Runner): void {
  program
    .command("completion")
    .description("print a shell completion script: bash, zsh or fish")
    .argument("<shell>", SHELLS.join(" | "))
    .addHelpText("after", "\nInstall:\n  bash: echo 'source <(ona completion bash)' >> ~/.bashrc\n  zsh:  echo 'source <(ona completion zsh)' >> ~/.zshrc\n  fish: ona completion fish > ~/.config/fish/completions/ona.fish")
    .action(run(async (app, command) => {
      const name = argumentAt(command, 0);
      const shell = SHELLS.find((known) => known === name);
      if (!shell) throw new CliError(`unknown shell "${name}"`, ExitCode.USAGE, `use one of ${SHELLS.join(", ")}`);
      app.out.write(completionScript(program, shell));
    }));
}
