import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { MMAP_BYTES, chunkRangeSql, readRange, type RangeQuery } from './candle-store.ts';
import type { SeriesKey } from '../../../shared/market.ts';

/**
 * Reader thread for large candle scans: its own read-only connection (WAL lets it read while the
 * engine thread writes), results sent back as transferred ArrayBuffers (no copy, no JSON).
 */
interface ReadRequest {
  id: number;
  key: SeriesKey;
  range: RangeQuery;
}

const { path } = workerData as { path: string };
const db = new DatabaseSync(path, { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000');
db.exec(`PRAGMA mmap_size = ${MMAP_BYTES}`);
const statements = new Map<boolean, ReturnType<DatabaseSync['prepare']>>();
const prepare = (descending: boolean): ReturnType<DatabaseSync['prepare']> => {
  let stmt = statements.get(descending);
  if (!stmt) {
    stmt = db.prepare(chunkRangeSql(descending));
    statements.set(descending, stmt);
  }
  return stmt;
};
const seriesStmt = db.prepare(
  'SELECT id FROM candle_series WHERE venue = ? AND symbol = ? AND timeframe = ?',
);

parentPort!.on('message', (message: ReadRequest | 'close') => {
  if (message === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    const row = seriesStmt.get(message.key.venue, message.key.symbol, message.key.timeframe) as
      { id: number } | undefined;
    const columns = row
      ? readRange(prepare, row.id, message.range)
      : {
          time: new Float64Array(0),
          open: new Float64Array(0),
          high: new Float64Array(0),
          low: new Float64Array(0),
          close: new Float64Array(0),
          volume: new Float64Array(0),
        };
    const buffers = [
      columns.time,
      columns.open,
      columns.high,
      columns.low,
      columns.close,
      columns.volume,
    ].map((a) => a.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: message.id, ok: true, columns }, buffers);
  } catch (err) {
    parentPort!.postMessage({
      id: message.id,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    });
  }
});
