import { resolve, join, dirname } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Raised by a command for an expected failure; the CLI prints the message (no stack) and exits with the code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The per-OS user data folder, as Electron's app.getPath('userData') would give it. */
export function defaultDataDir(): string {
  const home = homedir();
  if (process.platform === 'win32')
    return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Vantage');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Vantage');
  return join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Vantage');
}

/** --data-dir, then VANTAGE_DATA_DIR, then the OS user data folder. */
export function resolveDataDir(option: string | undefined): string {
  return resolve(option ?? process.env.VANTAGE_DATA_DIR ?? defaultDataDir());
}

export function resourcesDir(): string {
  return join(REPO_ROOT, 'resources');
}

/** The root program's global options, readable from any subcommand. */
export function globalOptions(command: Command): { dataDir: string; json: boolean } {
  const opts = command.optsWithGlobals<{ dataDir?: string; json?: boolean }>();
  return { dataDir: resolveDataDir(opts.dataDir), json: Boolean(opts.json) };
}

/** Prints a value as JSON (for --json) with a trailing newline. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI;
}
