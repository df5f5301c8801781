import { Worker } from 'node:worker_threads';
import { appError } from '../../../shared/errors.ts';
import type { CandleColumns, SeriesKey } from '../../../shared/market.ts';
import type { RangeQuery } from './candle-store.ts';

type Reply = { id: number; ok: true; columns: CandleColumns } | { id: number; ok: false; message: string };

/**
 * Runs candle range reads on a worker thread so a multi-million-bar scan never blocks the engine
 * thread (feeds, orders). The worker opens market.db read-only itself; results arrive as
 * transferred buffers.
 */
export class CandleReader {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (c: CandleColumns) => void; reject: (e: Error) => void }
  >();
  private isClosed = false;

  constructor(dbPath: string) {
    this.worker = new Worker(new URL('./candle-reader-worker.ts', import.meta.url), {
      workerData: { path: dbPath },
    });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.columns);
      else waiter.reject(appError('INTERNAL', `Candle read failed: ${reply.message}`));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', () => this.failAll(new Error('candle reader thread exited')));
    // The reader must not keep the process alive on its own.
    this.worker.unref();
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values())
      waiter.reject(appError('INTERNAL', `Candle read failed: ${err.message}`));
    this.pending.clear();
  }

  read(key: SeriesKey, range: RangeQuery = {}): Promise<CandleColumns> {
    if (this.isClosed) return Promise.reject(appError('ENGINE_UNAVAILABLE', 'The candle reader is closed.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, key, range });
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    }) as Promise<CandleColumns>;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.worker.terminate();
  }
}
