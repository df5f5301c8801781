import { appError } from '../../../../shared/errors.ts';
import {
  TIMEFRAME_MS,
  barOpenMs,
  candlesToColumns,
  type Candle,
  type SeriesKey,
  type Timeframe,
} from '../../../../shared/market.ts';
import type { CandleStore } from '../candle-store.ts';
import { ensureMarket, ensureTimeframe, fetchOhlcvPages, type RetryContext } from './rest.ts';
import type { CcxtExchange } from './venues.ts';

export interface HistoryFetchRequest {
  venue: string;
  symbol: string;
  timeframe: Timeframe;
  /** First bar open time wanted (inclusive). */
  sinceMs: number;
  /** Bars opening before this (exclusive); capped at the bar forming now, which is never stored. */
  untilMs?: number;
}

export interface HistoryFetchProgress {
  fetchedBars: number;
  /** Upper bound: the ranges' length in bars (venue outages make the real count lower). */
  expectedBars: number;
  lastBarMs: number | null;
}

export interface HistoryFetchResult {
  venue: string;
  symbol: string;
  timeframe: Timeframe;
  /** The ranges actually requested, [fromMs, toMs) each; empty when everything was stored already. */
  ranges: { fromMs: number; toMs: number }[];
  fetchedBars: number;
  insertedBars: number;
  /** Set when the fetch continued after bars already in the store. */
  resumedAfterMs: number | null;
  firstMs: number | null;
  lastMs: number | null;
  storedBars: number;
}

export interface HistoryFetchContext extends RetryContext {
  onProgress?: (progress: HistoryFetchProgress) => void;
}

/**
 * Downloads closed bars from a venue into market.db. Resumable: bars already stored between the
 * first and last stored bar are not fetched again, so a run that was killed or failed continues after
 * the last stored bar (and fetches any head before the first one). Each page is upserted on its own
 * (atomic per page), so an interruption keeps every page that arrived.
 */
export async function fetchHistory(
  exchange: CcxtExchange,
  store: CandleStore,
  request: HistoryFetchRequest,
  ctx: HistoryFetchContext,
): Promise<HistoryFetchResult> {
  const { venue, symbol, timeframe } = request;
  const tfMs = TIMEFRAME_MS[timeframe];
  if (!Number.isFinite(request.sinceMs)) throw appError('BAD_INPUT', 'The start time is not a valid time.');
  ensureTimeframe(venue, exchange, timeframe);
  await ensureMarket(venue, exchange, symbol, ctx);
  const formingBarMs = barOpenMs(ctx.scheduler.nowMs(), timeframe);
  const sinceMs = Math.ceil(request.sinceMs / tfMs) * tfMs;
  const untilMs = Math.min(request.untilMs ?? formingBarMs, formingBarMs);
  if (untilMs <= sinceMs) {
    throw appError(
      'BAD_INPUT',
      `Nothing to fetch: the range ${new Date(sinceMs).toISOString()} .. ${new Date(untilMs).toISOString()} holds no closed ${timeframe} bar.`,
    );
  }
  const key: SeriesKey = { venue, symbol, timeframe };
  const stored = store.getSeries(key);
  const ranges: { fromMs: number; toMs: number }[] = [];
  let resumedAfterMs: number | null = null;
  if (
    stored === null ||
    stored.firstMs === null ||
    stored.lastMs === null ||
    stored.lastMs < sinceMs ||
    stored.firstMs >= untilMs
  ) {
    ranges.push({ fromMs: sinceMs, toMs: untilMs });
  } else {
    if (sinceMs < stored.firstMs) ranges.push({ fromMs: sinceMs, toMs: stored.firstMs });
    if (stored.lastMs + tfMs < untilMs) {
      ranges.push({ fromMs: stored.lastMs + tfMs, toMs: untilMs });
      resumedAfterMs = stored.lastMs;
    } else if (sinceMs >= stored.firstMs) {
      resumedAfterMs = stored.lastMs;
    }
  }
  const expectedBars = ranges.reduce((n, r) => n + (r.toMs - r.fromMs) / tfMs, 0);
  let fetchedBars = 0;
  let insertedBars = 0;
  let lastBarMs: number | null = null;
  ctx.onProgress?.({ fetchedBars, expectedBars, lastBarMs });
  for (const range of ranges) {
    for await (const page of fetchOhlcvPages(
      venue,
      exchange,
      symbol,
      timeframe,
      { sinceMs: range.fromMs, untilMs: range.toMs },
      ctx,
    )) {
      validateBars(venue, symbol, page.bars);
      const result = store.upsert(key, candlesToColumns(page.bars));
      fetchedBars += page.bars.length;
      insertedBars += result.inserted;
      lastBarMs = page.bars[page.bars.length - 1]!.time;
      ctx.onProgress?.({ fetchedBars, expectedBars, lastBarMs });
    }
  }
  const after = store.getSeries(key);
  return {
    venue,
    symbol,
    timeframe,
    ranges,
    fetchedBars,
    insertedBars,
    resumedAfterMs,
    firstMs: after?.firstMs ?? null,
    lastMs: after?.lastMs ?? null,
    storedBars: after?.barCount ?? 0,
  };
}

/** A venue's bars go into the same store as imports, so they meet the same rules. */
function validateBars(venue: string, symbol: string, bars: Candle[]): void {
  for (const b of bars) {
    const values = [b.open, b.high, b.low, b.close, b.volume];
    const isValid =
      values.every(Number.isFinite) &&
      b.volume >= 0 &&
      b.high >= Math.max(b.open, b.close) &&
      b.low <= Math.min(b.open, b.close);
    if (!isValid) {
      throw appError(
        'DATA_INVALID',
        `${venue} sent an inconsistent ${symbol} bar at ${new Date(b.time).toISOString()}: ${JSON.stringify(b)}. Nothing after it was stored.`,
        {
          bar: b,
        },
      );
    }
  }
}
