import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import { appError, AppErrorException } from '../../../shared/errors.ts';
import type { FetchJob } from '../../../shared/contract/history.ts';
import type { CandleStore } from './candle-store.ts';
import { MARKET_STORE_SERVICE } from './module.ts';
import { createVenueExchange } from './ccxt/venues.ts';
import { fetchHistory } from './ccxt/history-fetch.ts';

/** At most this many downloads run at once (venues rate-limit per IP; two keep the UI responsive). */
export const MAX_RUNNING_FETCHES = 2;
const MAX_KEPT_JOBS = 50;

/**
 * The 'history' module: candle downloads from ccxt venues into market.db as jobs with progress and
 * cancel (the Data manager's Fetch). options.venueUrls maps a venue id to a base URL (a local test
 * server or a self-hosted proxy; the hosts fill it from VANTAGE_VENUE_URL_<VENUE>).
 */
export const historyFetchModule: EngineModule = {
  name: 'history',
  start(context: EngineContext): ModuleInstance {
    const { scheduler, random, bus, logger } = context;
    const venueUrls = (context.options.venueUrls ?? {}) as Record<string, string>;
    const jobs = new Map<string, FetchJob>();
    const aborts = new Map<string, AbortController>();
    let nextId = 1;

    const list = (): FetchJob[] => [...jobs.values()].sort((a, b) => b.startedMs - a.startedMs);
    const publish = (): void => bus.publish('history:changed', { jobs: list() });
    const update = (jobId: string, patch: Partial<FetchJob>): void => {
      const job = jobs.get(jobId);
      if (!job) return;
      jobs.set(jobId, { ...job, ...patch });
      publish();
    };
    const prune = (): void => {
      const done = list().filter((j) => j.state !== 'running');
      for (const j of done.slice(MAX_KEPT_JOBS)) jobs.delete(j.jobId);
    };

    const handlers: Handlers = {
      'history:fetch': (req) => {
        const store = context.services.get(MARKET_STORE_SERVICE) as CandleStore | undefined;
        if (!store)
          throw appError(
            'STORE_CORRUPT',
            'market.db is not available, so downloaded candles cannot be stored.',
          );
        const running = list().filter((j) => j.state === 'running');
        if (running.length >= MAX_RUNNING_FETCHES) {
          throw appError(
            'CONFLICT',
            `${running.length} downloads are running; wait for one to finish or cancel one.`,
          );
        }
        if (
          running.some(
            (j) => j.venue === req.venue && j.symbol === req.symbol && j.timeframe === req.timeframe,
          )
        ) {
          throw appError(
            'CONFLICT',
            `${req.symbol} ${req.timeframe} is already downloading from ${req.venue}.`,
          );
        }
        // Validates the venue id at once (BAD_INPUT for an unknown venue).
        const baseUrl = venueUrls[req.venue];
        const exchange = createVenueExchange(req.venue, baseUrl === undefined ? {} : { baseUrl });
        const jobId = `fetch-${nextId++}`;
        const job: FetchJob = {
          jobId,
          venue: req.venue,
          symbol: req.symbol,
          timeframe: req.timeframe,
          sinceMs: req.sinceMs,
          untilMs: req.untilMs ?? null,
          state: 'running',
          fetchedBars: 0,
          expectedBars: 0,
          lastBarMs: null,
          startedMs: scheduler.nowMs(),
          finishedMs: null,
          message: 'starting',
          insertedBars: 0,
          storedBars: 0,
        };
        jobs.set(jobId, job);
        prune();
        const abort = new AbortController();
        aborts.set(jobId, abort);
        publish();
        void fetchHistory(
          exchange,
          store,
          {
            venue: req.venue,
            symbol: req.symbol,
            timeframe: req.timeframe,
            sinceMs: req.sinceMs,
            ...(req.untilMs === undefined ? {} : { untilMs: req.untilMs }),
          },
          {
            scheduler,
            random,
            signal: abort.signal,
            policy: { initialDelayMs: 500, maxDelayMs: 15_000, maxAttempts: 5, rateLimitedDelayMs: 5_000 },
            onRetry: ({ attempt, kind, delayMs }) =>
              update(jobId, {
                message: `${kind === 'rate-limited' ? 'rate limited' : 'request failed'} (attempt ${attempt}); retrying in ${(delayMs / 1000).toFixed(1)} s`,
              }),
            onProgress: (p) =>
              update(jobId, {
                fetchedBars: p.fetchedBars,
                expectedBars: p.expectedBars,
                lastBarMs: p.lastBarMs,
                message: 'downloading',
              }),
          },
        )
          .then((result) => {
            const resumed =
              result.resumedAfterMs === null
                ? ''
                : ` (resumed after ${new Date(result.resumedAfterMs).toISOString().slice(0, 16)})`;
            update(jobId, {
              state: 'done',
              finishedMs: scheduler.nowMs(),
              fetchedBars: result.fetchedBars,
              insertedBars: result.insertedBars,
              storedBars: result.storedBars,
              message: `${result.fetchedBars} bars fetched, ${result.insertedBars} new${resumed}`,
            });
          })
          .catch((err: unknown) => {
            const isCancelled = abort.signal.aborted;
            const message =
              err instanceof AppErrorException || err instanceof Error ? err.message : String(err);
            update(jobId, {
              state: isCancelled ? 'cancelled' : 'failed',
              finishedMs: scheduler.nowMs(),
              message: isCancelled ? 'cancelled; the pages already downloaded are stored' : message,
            });
            if (!isCancelled)
              logger.warn(
                { jobId, venue: req.venue, symbol: req.symbol, err: message },
                'history fetch failed',
              );
          })
          .finally(() => {
            aborts.delete(jobId);
            void (exchange as { close?: () => Promise<void> }).close?.();
          });
        return job;
      },
      'history:cancel': (req) => {
        const job = jobs.get(req.jobId);
        if (!job) throw appError('NOT_FOUND', `No download ${req.jobId}.`);
        aborts.get(req.jobId)?.abort();
        return jobs.get(req.jobId)!;
      },
      'history:jobs': () => ({ jobs: list() }),
    };
    return {
      handlers,
      stop() {
        for (const a of aborts.values()) a.abort();
      },
    };
  },
};
