import { Engine } from '../core/engine.ts';
import { SeededRandom } from '../core/random.ts';
import { createLogger, silentLogger, type Logger } from '../core/telemetry/logger.ts';
import { SystemScheduler } from './system-clock.ts';
import type { EngineModule } from '../core/module.ts';

export interface StartEngineOptions {
  dataDir: string;
  resourcesDir: string;
  version: string;
  /** Write logs to <dataDir>/logs (default true). */
  isLogging?: boolean;
  logger?: Logger;
  seed?: number;
  forceCpu?: boolean;
  restarts?: number;
  modules?: EngineModule[];
  moduleOptions?: Record<string, unknown>;
}

/** Builds and starts the engine with the wall clock: shared by the CLI, `vantage serve` and Electron's utility process. */
export async function startEngine(options: StartEngineOptions): Promise<{ engine: Engine; logger: Logger }> {
  const logger =
    options.logger ?? (options.isLogging === false ? silentLogger() : createLogger({ dataDir: options.dataDir }));
  const engine = new Engine({
    dataDir: options.dataDir,
    resourcesDir: options.resourcesDir,
    version: options.version,
    scheduler: new SystemScheduler(),
    random: new SeededRandom(options.seed ?? 20261125),
    logger,
    forceCpu: options.forceCpu ?? process.env.VANTAGE_FORCE_CPU === '1',
    restarts: options.restarts ?? 0,
    ...(options.modules ? { modules: options.modules } : {}),
    ...(options.moduleOptions ? { moduleOptions: options.moduleOptions } : {}),
  });
  await engine.start();
  return { engine, logger };
}
