import type { Handlers, StreamBus } from './host.ts';
import type { Scheduler } from './clock.ts';
import type { RandomSource } from './random.ts';
import type { Logger } from './telemetry/logger.ts';
import type { OpenedDatabase } from './store/sqlite.ts';
import type { AppError } from '../../shared/errors.ts';

/** What the engine gives each domain module when it starts. */
export interface EngineContext {
  dataDir: string;
  /** Bundled resources (resources/ in the repo, process.resourcesPath in a packaged app). */
  resourcesDir: string;
  scheduler: Scheduler;
  random: RandomSource;
  bus: StreamBus;
  logger: Logger;
  /** null when the file failed to open (integrity failure); modules must then degrade, not crash. */
  marketDb: OpenedDatabase | null;
  ledgerDb: OpenedDatabase | null;
  /** False while any store is corrupt or a halt is in force; order paths must check it. */
  isTradingEnabled(): boolean;
  /** Report a problem: the engine becomes 'degraded' and the UI shows it. */
  reportProblem(problem: AppError): void;
  /** Services registered by earlier modules (e.g. 'market' registers its store for 'backtest'). */
  services: Map<string, unknown>;
  options: Readonly<Record<string, unknown>>;
}

/**
 * A domain module (market data, models, trading, ...). The engine starts modules in order;
 * each contributes request handlers and may register services for later modules.
 */
export interface EngineModule {
  name: string;
  start(context: EngineContext): Promise<ModuleInstance> | ModuleInstance;
}

export interface ModuleInstance {
  handlers: Handlers;
  stop?(): Promise<void> | void;
}
