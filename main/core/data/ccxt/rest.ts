import ccxt from 'ccxt';
import type { Scheduler } from '../../clock.ts';
import type { RandomSource } from '../../random.ts';
import { AppErrorException, appError } from '../../../../shared/errors.ts';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../../../../shared/market.ts';
import type { CcxtExchange } from './venues.ts';

/** How a failed venue call should be treated. */
export type VenueErrorKind =
  'rate-limited' | 'network' | 'out-of-sync' | 'bad-symbol' | 'not-supported' | 'fatal';

export function classifyVenueError(err: unknown): VenueErrorKind {
  // Our own refusals (e.g. a request outside the pinned origin) are never retried.
  if (err instanceof AppErrorException) return 'fatal';
  // ccxt: HTTP 429 / Binance -1003 raise DDoSProtection or RateLimitExceeded (both NetworkError).
  if (err instanceof ccxt.RateLimitExceeded || err instanceof ccxt.DDoSProtection) return 'rate-limited';
  // ccxt: a websocket book whose update ids do not chain raises ChecksumError (an InvalidNonce).
  if (err instanceof ccxt.InvalidNonce) return 'out-of-sync';
  if (err instanceof ccxt.NetworkError) return 'network';
  if (err instanceof ccxt.BadSymbol) return 'bad-symbol';
  if (err instanceof ccxt.NotSupported) return 'not-supported';
  return 'fatal';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Exponential backoff with jitter, in ms. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Attempts before giving up (the first try counts). */
  maxAttempts: number;
  /** Lower bound for the wait after a rate-limit answer (Binance asks clients to back off, not hammer). */
  rateLimitedDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: 8,
  rateLimitedDelayMs: 5_000,
};

/**
 * Delay before retry number `attempt` (1 = first retry): "equal jitter" (AWS architecture blog):
 * half of the capped exponential step is fixed, half is random, so retries from many clients spread
 * out while each still waits at least half the step.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: RandomSource,
  isRateLimited = false,
): number {
  const step = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  const delay = step / 2 + random.next() * (step / 2);
  return Math.max(delay, isRateLimited ? policy.rateLimitedDelayMs : 0);
}

export function delay(scheduler: Scheduler, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(appError('CANCELLED', 'Cancelled.'));
      return;
    }
    const onAbort = (): void => {
      handle.cancel();
      reject(appError('CANCELLED', 'Cancelled.'));
    };
    const handle = scheduler.schedule(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryContext {
  scheduler: Scheduler;
  random: RandomSource;
  policy?: BackoffPolicy;
  signal?: AbortSignal;
  /** Called before each wait: the attempt that failed, its kind, and the wait. */
  onRetry?: (info: { attempt: number; kind: VenueErrorKind; delayMs: number; error: unknown }) => void;
}

/**
 * Runs a venue REST call; rate-limit answers and network errors are retried after a backoff,
 * anything else (bad symbol, bad request) fails at once. After the last attempt the error is
 * turned into VENUE_RATE_LIMITED or VENUE_UNREACHABLE.
 */
export async function callWithRetry<T>(
  venue: string,
  what: string,
  fn: () => Promise<T>,
  ctx: RetryContext,
): Promise<T> {
  const policy = ctx.policy ?? DEFAULT_BACKOFF;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const kind = classifyVenueError(err);
      if (kind !== 'rate-limited' && kind !== 'network') throw toVenueAppError(venue, what, err);
      if (attempt >= policy.maxAttempts) {
        throw kind === 'rate-limited'
          ? appError(
              'VENUE_RATE_LIMITED',
              `${venue} kept refusing ${what} for rate limits after ${attempt} attempts: ${errorMessage(err)}`,
              { venue },
            )
          : appError(
              'VENUE_UNREACHABLE',
              `${venue} is unreachable (${what} failed ${attempt} times): ${errorMessage(err)}. Check the network or the venue's status.`,
              {
                venue,
              },
            );
      }
      const delayMs = backoffDelayMs(attempt, policy, ctx.random, kind === 'rate-limited');
      ctx.onRetry?.({ attempt, kind, delayMs, error: err });
      await delay(ctx.scheduler, delayMs, ctx.signal);
    }
  }
}

export function toVenueAppError(venue: string, what: string, err: unknown): AppErrorException {
  if (err instanceof AppErrorException) return err;
  const kind = classifyVenueError(err);
  if (kind === 'bad-symbol')
    return appError('BAD_INPUT', `${venue} does not list that symbol (${what}): ${errorMessage(err)}`, {
      venue,
    });
  if (kind === 'not-supported')
    return appError('VENUE_ERROR', `${venue} does not support ${what}: ${errorMessage(err)}`, { venue });
  if (kind === 'rate-limited')
    return appError('VENUE_RATE_LIMITED', `${venue} refused ${what} for rate limits: ${errorMessage(err)}`, {
      venue,
    });
  if (kind === 'network')
    return appError('VENUE_UNREACHABLE', `${venue} is unreachable (${what}): ${errorMessage(err)}`, {
      venue,
    });
  return appError('VENUE_ERROR', `${venue} failed ${what}: ${errorMessage(err)}`, { venue });
}

/** Loads the venue's markets (with retry) and checks the unified symbol exists. */
export async function ensureMarket(
  venue: string,
  exchange: CcxtExchange,
  symbol: string,
  ctx: RetryContext,
): Promise<void> {
  await callWithRetry(venue, 'loading markets', () => exchange.loadMarkets(), ctx);
  const markets = (exchange.markets ?? {}) as Record<string, unknown>;
  if (!(symbol in markets)) {
    const sample = Object.keys(markets).slice(0, 5).join(', ');
    throw appError(
      'BAD_INPUT',
      `${venue} has no market "${symbol}" (unified symbols look like ${sample || 'BTC/USDT'}).`,
      { venue, symbol },
    );
  }
}

export function ensureTimeframe(venue: string, exchange: CcxtExchange, timeframe: Timeframe): void {
  const supported = exchange.timeframes as Record<string, unknown> | undefined;
  if (supported && !(timeframe in supported)) {
    throw appError(
      'BAD_INPUT',
      `${venue} has no ${timeframe} candles (it offers ${Object.keys(supported).join(', ')}).`,
      { venue, timeframe },
    );
  }
}

export interface OhlcvPage {
  bars: Candle[];
  /** Open time the next page starts from. */
  nextSinceMs: number;
}

/**
 * Pages through fetchOHLCV from sinceMs (inclusive) to untilMs (exclusive, bar open times), oldest
 * first, `pageLimit` bars a call (Binance: at most 1000). Stops at untilMs or when the venue has
 * nothing newer. Each call goes through callWithRetry, and ccxt's rate limiter spaces the calls.
 */
export async function* fetchOhlcvPages(
  venue: string,
  exchange: CcxtExchange,
  symbol: string,
  timeframe: Timeframe,
  range: { sinceMs: number; untilMs: number; pageLimit?: number },
  ctx: RetryContext,
): AsyncGenerator<OhlcvPage> {
  const tfMs = TIMEFRAME_MS[timeframe];
  const pageLimit = range.pageLimit ?? 1000;
  let since = range.sinceMs;
  while (since < range.untilMs) {
    if (ctx.signal?.aborted) throw appError('CANCELLED', 'Fetch cancelled.');
    const sinceNow = since;
    const rows = await callWithRetry(
      venue,
      `fetching ${symbol} ${timeframe} candles`,
      // until is inclusive in ccxt's binance (endTime); bars opening at untilMs are not wanted.
      () => exchange.fetchOHLCV(symbol, timeframe, sinceNow, pageLimit, { until: range.untilMs - 1 }),
      ctx,
    );
    const bars: Candle[] = [];
    for (const row of rows) {
      const [t, o, h, l, c, v] = row as (number | undefined)[];
      if (t === undefined || t < since || t >= range.untilMs) continue;
      if (o === undefined || h === undefined || l === undefined || c === undefined) continue;
      bars.push({ time: t, open: o, high: h, low: l, close: c, volume: v ?? 0 });
    }
    if (bars.length === 0) return;
    since = bars[bars.length - 1]!.time + tfMs;
    yield { bars, nextSinceMs: since };
    if (rows.length < pageLimit) return;
  }
}
