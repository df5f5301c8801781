import { servePort, type Dispatcher, type StreamBus } from '../core/host.ts';
import type { Scheduler } from '../core/clock.ts';
import { adaptMessagePortMain, type MessagePortMainLike } from './ports.ts';
import type { EngineConnectMessage, EngineLaunch } from './shell.ts';

/** Arguments main passes to the engine utility process (argv, never env: env is inherited by every child). */
export function engineArgs(launch: EngineLaunch): string[] {
  return [
    `--data-dir=${launch.dataDir}`,
    `--resources-dir=${launch.resourcesDir}`,
    `--app-version=${launch.version}`,
    `--restarts=${launch.restarts}`,
  ];
}

export function parseEngineArgs(argv: readonly string[]): EngineLaunch {
  const values = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (match) values.set(match[1]!, match[2]!);
  }
  const required = (name: string): string => {
    const value = values.get(name);
    if (value === undefined || value === '')
      throw new Error(
        `The engine process needs --${name}=<value> (got: ${argv.join(' ') || 'no arguments'}).`,
      );
    return value;
  };
  const restarts = Number(values.get('restarts') ?? '0');
  if (!Number.isSafeInteger(restarts) || restarts < 0)
    throw new Error(`--restarts must be a whole number >= 0 (got ${values.get('restarts')}).`);
  return {
    dataDir: required('data-dir'),
    resourcesDir: required('resources-dir'),
    version: required('app-version'),
    restarts,
  };
}

/** Electron's process.parentPort in a utility process. */
export interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown; ports: MessagePortMainLike[] }) => void): unknown;
}

export interface EngineHost {
  dispatcher: Dispatcher;
  bus: StreamBus;
}

function isConnectMessage(data: unknown): data is EngineConnectMessage {
  if (typeof data !== 'object' || data === null) return false;
  const message = data as { type?: unknown; origin?: unknown };
  return message.type === 'connect' && (message.origin === 'window' || message.origin === 'main');
}

/**
 * Serves the engine on every port main hands over. Ports that arrive while the engine is still
 * starting wait (MessagePortMain queues messages until started), so no request is lost.
 */
export function serveParentPort(options: {
  parentPort: ParentPortLike;
  engine: Promise<EngineHost>;
  scheduler: Scheduler;
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}): void {
  options.parentPort.on('message', (event) => {
    const [port] = event.ports;
    if (!isConnectMessage(event.data) || !port || event.ports.length !== 1) {
      options.logger.warn(
        { ports: event.ports.length },
        'ignored a message from main without one engine port',
      );
      for (const extra of event.ports) extra.close();
      return;
    }
    const origin = `electron-${event.data.origin}`;
    void options.engine.then(
      (engine) => {
        servePort(adaptMessagePortMain(port), {
          dispatcher: engine.dispatcher,
          bus: engine.bus,
          scheduler: options.scheduler,
          origin,
          logger: options.logger,
        });
      },
      () => port.close(),
    );
  });
}
