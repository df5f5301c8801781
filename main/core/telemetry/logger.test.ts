import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { closeLogger, createLogger } from './logger.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('logs', () => {
  it('never write secrets, at the top level or nested', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const logger = createLogger({ destination: sink });
    logger.info(
      { apiKey: 'AKIA-SECRET-1', venue: { secret: 'S3CR3T', apiKey: 'K' }, token: 'tok', symbol: 'BTC/USDT' },
      'connecting',
    );
    expect(out).toContain('BTC/USDT');
    expect(out).not.toMatch(/AKIA-SECRET-1|S3CR3T|"tok"/);
    expect(out).toContain('[redacted]');
  });

  it('go to a rotating file in the data folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vantage-logs-'));
    dirs.push(dataDir);
    const logger = createLogger({ dataDir });
    logger.info({ event: 'engine-start' }, 'engine started');
    // pino-roll runs in a worker thread: close it so everything is on disk.
    await closeLogger(logger);
    const files = readdirSync(join(dataDir, 'logs'));
    expect(files.some((f) => f.startsWith('vantage'))).toBe(true);
    const text = files.map((f) => readFileSync(join(dataDir, 'logs', f), 'utf8')).join('');
    expect(text).toContain('engine started');
  });
});
