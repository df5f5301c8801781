import { Command, CommanderError } from 'commander';
import { appVersion, CliError, EXIT_FAILURE, EXIT_USAGE } from './context.ts';
import { registerCommands } from './commands/index.ts';
import { AppErrorException } from '../../shared/errors.ts';

export function buildProgram(): Command {
  const program = new Command('vantage')
    .description('Vantage: AI trading workstation engine, backtester and tools.')
    .version(appVersion())
    .option('--data-dir <dir>', 'data folder (default: $VANTAGE_DATA_DIR or the OS user data folder)')
    .option('--json', 'machine-readable JSON output where the command supports it')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  // Every subcommand throws instead of exiting, so runCli owns exit codes.
  const applyOverride = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(applyOverride);
  };
  applyOverride(program);
  return program;
}

/** Runs the CLI and returns its exit code: 0 ok, 1 failure, 2 bad usage. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return EXIT_USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`vantage: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof AppErrorException) {
      process.stderr.write(`vantage: ${err.message} [${err.code}]\n`);
      return err.code === 'BAD_INPUT' ? EXIT_USAGE : EXIT_FAILURE;
    }
    process.stderr.write(
      `vantage: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT_FAILURE;
  }
}
