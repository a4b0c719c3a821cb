/** What every `hcc` subcommand provides. Each lives in its own file under src/cli/commands/. */
export interface Command {
  /** One or two words, as typed: `convert`, `train seg`, `study run`. */
  name: string;
  /** One line for `hcc --help`. */
  summary: string;
  /** Full help text for `hcc <name> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Writes a value as the single JSON document on stdout, as every `--json` output does. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
