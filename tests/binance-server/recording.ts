import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Binance REST depth snapshot (GET /api/v3/depth), prices and quantities as strings. */
export interface DepthSnapshot {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

/** One combined-stream message as Binance sends it: `{"stream": "btcusdt@trade", "data": {...}}`. */
export interface RecordedEvent {
  /** The recorder's local receive time, epoch ns (as a number: ms precision is all replay needs). */
  receivedNs: number;
  stream: string;
  data: Record<string, unknown>;
}

export interface Recording {
  /** Exchange symbol id, e.g. BTCUSDT. */
  symbol: string;
  snapshot: DepthSnapshot;
  /** Every stream message in recorded order, including diffs logged before the snapshot line. */
  events: RecordedEvent[];
}

/**
 * Loads hftbacktest collector files (`<recv_ns> <raw json>` lines, gzip): the first file holds the
 * REST snapshot; later files continue the same stream. hftbacktest logs the bridging depth diff just
 * before the snapshot line, so diffs are kept in file order and never dropped here: the consumer must
 * buffer them as Binance's "manage a local order book" procedure says.
 */
export function loadRecording(paths: readonly string[]): Recording {
  let snapshot: DepthSnapshot | null = null;
  let symbol: string | null = null;
  const events: RecordedEvent[] = [];
  for (const path of paths) {
    const text = gunzipSync(readFileSync(path)).toString('utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      if (line.length === 0) continue;
      const space = line.indexOf(' ');
      if (space < 0) throw new Error(`${path}: line without a receive time: ${line.slice(0, 80)}`);
      const receivedNs = Number(line.slice(0, space));
      const message = JSON.parse(line.slice(space + 1)) as Record<string, unknown>;
      if ('lastUpdateId' in message) {
        if (snapshot !== null) throw new Error(`${path}: a second depth snapshot in one recording`);
        snapshot = message as unknown as DepthSnapshot;
        continue;
      }
      const stream = message.stream;
      const data = message.data;
      if (typeof stream !== 'string' || typeof data !== 'object' || data === null) {
        throw new Error(`${path}: not a combined-stream message: ${line.slice(0, 120)}`);
      }
      const streamSymbol = stream.split('@')[0]!.toUpperCase();
      if (symbol === null) symbol = streamSymbol;
      else if (symbol !== streamSymbol) throw new Error(`${path}: mixes ${symbol} and ${streamSymbol}`);
      events.push({ receivedNs, stream, data: data as Record<string, unknown> });
    }
  }
  if (snapshot === null || symbol === null) throw new Error(`no depth snapshot in ${paths.join(', ')}`);
  return { symbol, snapshot, events };
}

/** Freqtrade/Binance candle rows `[[openMs, o, h, l, c, v], ...]` from a JSON file, in file order. */
export function loadCandleRows(path: string): [number, number, number, number, number, number][] {
  return JSON.parse(readFileSync(path, 'utf8')) as [number, number, number, number, number, number][];
}
