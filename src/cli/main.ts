import { commands } from './commands/index.js';
import type { Command } from './command.js';
import { ExitCode, HccError } from '../util/errors.js';

const VERSION = '0.1.0';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'hcc: hepatocellular carcinoma intra-arterial therapy pipeline (CT -> segmentation -> PMN -> nomogram -> TACE/HAIC)',
    '',
    'Usage: hcc <command> [options]        hcc <command> --help for its options',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 ok, 1 failed or invalid input, 2 bad command line, 3 set-up incomplete.',
  ].join('\n');
}

/** Longest match first, so `train seg` wins over a hypothetical `train`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const byLength = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const command of byLength) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

export async function runCli(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(overview() + '\n');
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (argv[0] === '--version') {
    process.stdout.write(VERSION + '\n');
    return ExitCode.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
    const hint = group.length > 0 ? `\n'${argv[0]}' takes one of: ${group.map((c) => c.name).join(', ')}` : '';
    process.stderr.write(`hcc: unknown command '${argv.slice(0, 2).join(' ')}'.${hint}\nRun 'hcc --help' for the list.\n`);
    return ExitCode.usage;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return ExitCode.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportError(command.name, err, rest.includes('--json'), rest.includes('--debug'));
  }
}

function reportError(name: string, err: unknown, json: boolean, debug: boolean): number {
  const known = err instanceof HccError;
  // node:util parseArgs throws TypeErrors with these codes for a bad command line.
  const code = (err as { code?: string })?.code ?? '';
  const isUsage = code.startsWith('ERR_PARSE_ARGS');
  const exitCode = known ? err.exitCode : isUsage ? ExitCode.usage : ExitCode.failure;
  const message = err instanceof Error ? err.message : String(err);
  if (json) {
    process.stdout.write(JSON.stringify({ error: message, command: name, exitCode, ...(known && err.detail ? { detail: err.detail } : {}) }) + '\n');
  }
  if (known || isUsage) {
    process.stderr.write(`hcc ${name}: ${message}\n`);
  } else {
    process.stderr.write(`hcc ${name}: internal error: ${message}\nThis is a bug in hcc-iat; please report it with the command line.${debug ? '' : ' (--debug shows the stack)'}\n`);
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return exitCode;
}
