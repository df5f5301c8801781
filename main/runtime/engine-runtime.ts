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
    options.logger ??
    (options.isLogging === false ? silentLogger() : createLogger({ dataDir: options.dataDir }));
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
    moduleOptions: { venueUrls: venueUrlsFromEnv(), ...options.moduleOptions },
  });
  await engine.start();
  return { engine, logger };
}

/** VANTAGE_VENUE_URL_<VENUE>=http://127.0.0.1:8080 sends a venue's traffic to a test server or a self-hosted proxy. */
export function venueUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const match = /^VANTAGE_VENUE_URL_([A-Z0-9]+)$/.exec(key);
    if (match && value) urls[match[1]!.toLowerCase()] = value;
  }
  return urls;
}
