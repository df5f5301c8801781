import { pino, type Logger } from 'pino';
import { join } from 'node:path';

export type { Logger };

/** Paths whose values never reach a log line (API keys, secrets, tokens). */
export const REDACT_PATHS = [
  'apiKey',
  'secret',
  'password',
  'token',
  'passphrase',
  'privateKey',
  '*.apiKey',
  '*.secret',
  '*.password',
  '*.token',
  '*.passphrase',
  '*.privateKey',
  'headers.authorization',
];

export interface LoggerOptions {
  /** Writes to <dataDir>/logs/vantage.log, rotated daily and at 10 MB, 14 files kept. */
  dataDir?: string;
  level?: string;
  /** Explicit destination (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination);
  if (!options.dataDir) return pino({ ...base, level: 'silent' });
  const transport = pino.transport({
    target: 'pino-roll',
    options: {
      file: join(options.dataDir, 'logs', 'vantage.log'),
      frequency: 'daily',
      size: '10m',
      mkdir: true,
      limit: { count: 14 },
    },
  });
  return pino(base, transport);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Flushes and closes a logger's destination (the pino-roll worker for file logs). */
export async function closeLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    { end?: () => void; once?: (event: string, fn: () => void) => void; closed?: boolean } | undefined;
  if (!stream?.end || !stream.once || stream === (process.stdout as unknown)) return;
  await new Promise<void>((resolve) => {
    stream.once!('close', resolve);
    stream.end!();
  });
}
