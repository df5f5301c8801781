import type { Command } from 'commander';

/**
 * Every CLI command registers itself here (one import and one line per command module).
 * A module exports `register(program: Command): void`.
 */
export function registerCommands(program: Command): void {
  void program;
}
