// `npm run cli -- <subcommand> [flags]`: the lab's command line (Node, tfjs CPU backend).
// Exit codes: 0 done, 1 failure, 2 bad usage (unknown subcommand or flag, out-of-range value).
import { corruptCommand } from './cli/corrupt';
import { evaluateCommand } from './cli/evaluate';
import { CliUsageError, parseFlags, subcommandHelp, type Subcommand } from './cli/flags';
import { finetuneCommand } from './cli/finetune';
import { fitCommand } from './cli/fit';
import { forwardCommand } from './cli/forward';
import { paramsCommand } from './cli/params';
import { profileCommand } from './cli/profile';
import { useCpuBackend } from './cli/tfjs';

/** One line per subcommand (each lives in scripts/cli/<name>.ts). */
const SUBCOMMANDS: Subcommand[] = [
  paramsCommand,
  forwardCommand,
  profileCommand,
  corruptCommand,
  evaluateCommand,
  finetuneCommand,
  fitCommand,
];

function help(): string {
  return [
    'usage: npm run cli -- <subcommand> [flags]    (npm run cli -- <subcommand> --help for one)',
    '',
    ...SUBCOMMANDS.map(subcommandHelp).flatMap((text) => [text, '']),
    'exit codes: 0 done, 1 failure, 2 bad usage',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS.find((c) => c.name === name);
  try {
    if (!command) {
      throw new CliUsageError(`unknown subcommand ${JSON.stringify(name)} (valid: ${SUBCOMMANDS.map((c) => c.name).join(', ')})`);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(subcommandHelp(command));
      return 0;
    }
    const flags = parseFlags(rest, command.flags);
    if (command.usesTfjs) await useCpuBackend();
    await command.run(flags);
    return 0;
  } catch (error) {
    if (error instanceof CliUsageError || (error instanceof Error && error.name === 'ModelOptionsError')) {
      console.error(`error: ${error.message}`);
      if (command) console.error(`\n${subcommandHelp(command)}`);
      return 2;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
