// The engine's utility process (utilityProcess.fork from main). Plain Node: no window, no
// Electron APIs beyond process.parentPort. Builds the engine and serves it on every port main sends.
import { startEngine } from '../runtime/engine-runtime.ts';
import { SystemScheduler } from '../runtime/system-clock.ts';
import { createLogger } from '../core/telemetry/logger.ts';
import { parseEngineArgs, serveParentPort, type ParentPortLike } from './engine-process.ts';

const launch = parseEngineArgs(process.argv.slice(2));
const logger = createLogger({ dataDir: launch.dataDir });
const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (!parentPort) {
  process.stderr.write(
    'engine-entry runs only as an Electron utility process (process.parentPort is missing).\n',
  );
  process.exit(2);
}

const engine = startEngine({
  dataDir: launch.dataDir,
  resourcesDir: launch.resourcesDir,
  version: launch.version,
  restarts: launch.restarts,
  logger,
}).then(({ engine: started }) => started);

engine.catch((err: unknown) => {
  logger.error({ err }, 'engine failed to start');
  // Exit non-zero: the supervisor in main restarts with backoff and tells the user.
  process.exit(1);
});

serveParentPort({ parentPort, engine, scheduler: new SystemScheduler(), logger });
