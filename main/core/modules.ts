import type { EngineModule } from './module.ts';
import { marketModule } from './data/module.ts';
import { tradingModule } from './execution/module.ts';
import { historyFetchModule } from './data/fetch-module.ts';
import { trainingModule } from './training/module.ts';
import { backtestModule } from './backtest/module.ts';
import { modelsModule } from './models/module.ts';
import { venuesModule } from './data/venues-module.ts';

/**
 * The domain modules the engine starts, in order. Each domain adds itself here (one line);
 * a module may use services registered by the modules before it.
 */
export const engineModules: EngineModule[] = [
  marketModule,
  venuesModule,
  modelsModule,
  trainingModule,
  historyFetchModule,
  tradingModule,
  backtestModule,
];
