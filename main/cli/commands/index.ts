import type { Command } from 'commander';
import { register as registerServe } from './serve.ts';
import { register as registerStatus } from './status.ts';
import { register as registerDb } from './db.ts';
import { register as registerFeatures } from './features.ts';
import { register as registerTrain } from './train.ts';
import { register as registerData } from './data.ts';
import { register as registerBacktest } from './backtest.ts';
import { register as registerRun } from './run.ts';
import { register as registerAudit } from './audit.ts';
import { register as registerModels } from './models.ts';
import { register as registerKillSwitch } from './kill-switch.ts';

/**
 * Every CLI command registers itself here (one import and one line per command module).
 * A module exports `register(program: Command): void`.
 */
export function registerCommands(program: Command): void {
  registerServe(program);
  registerStatus(program);
  registerDb(program);
  registerFeatures(program);
  registerData(program);
  registerTrain(program);
  registerBacktest(program);
  registerRun(program);
  registerAudit(program);
  registerModels(program);
  registerKillSwitch(program);
}
