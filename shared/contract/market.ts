import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { epochMsField, symbolField, timeframeField, venueField } from './fields.ts';
import { FEED_STATES } from '../market.ts';

/** Market data channels: symbols and tickers, candle history, stored series, import, feed health. */

const venue = venueField;
const symbol = symbolField;
const timeframe = timeframeField;
const epochMs = epochMsField;

export const candleSchema = z.object({
  time: z.number(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
});

export const tickerSchema = z.object({
  venue: z.string(),
  symbol: z.string(),
  tsMs: z.number(),
  last: z.number(),
  bid: z.number(),
  ask: z.number(),
  referencePrice: z.number(),
  volume24h: z.number(),
});

export const feedHealthSchema = z.object({
  venue: z.string(),
  symbol: z.string(),
  state: z.enum(FEED_STATES),
  lastMessageMs: z.number().nullable(),
  messagesPerSecond: z.number(),
  gaps: z.number().int(),
  expectedIntervalMs: z.number(),
  message: z.string().optional(),
});

export const seriesInfoSchema = z.object({
  venue: z.string(),
  symbol: z.string(),
  timeframe,
  firstMs: z.number().nullable(),
  lastMs: z.number().nullable(),
  barCount: z.number().int(),
});

export const gapSchema = z.object({ fromMs: z.number(), toMs: z.number(), missingBars: z.number().int() });

export const importIssueSchema = z.object({ file: z.string(), line: z.number().int(), message: z.string() });

/** The most bars one candles request may return (a chart's scroll-back loads more in pages). */
export const MAX_CANDLES_PER_REQUEST = 500_000;
/** Largest file content accepted through the contract (bigger files: import by path or CLI). */
export const MAX_IMPORT_CONTENT_CHARS = 64 * 1024 * 1024;

/** A column of a candles reply: a Float64Array of at most MAX_CANDLES_PER_REQUEST finite values. */
const candleColumn = z
  .custom<Float64Array>((v) => v instanceof Float64Array, { message: 'expected a Float64Array column' })
  .refine((a) => a.length <= MAX_CANDLES_PER_REQUEST, {
    message: `more than ${MAX_CANDLES_PER_REQUEST} bars in one reply`,
  })
  .refine(
    (a) => {
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
      return true;
    },
    { message: 'a value is NaN or infinite' },
  );

/**
 * Bars as columns (Float64Array each, not arrays of numbers): the Electron port carries them by
 * structured clone, the WebSocket host as binary frames (shared/binary-message.ts), so a
 * 200,000-bar reply is never a JSON array of numbers.
 */
export const candlesResponseSchema = z
  .object({
    venue: z.string(),
    symbol: z.string(),
    timeframe,
    /** Columns: bar i is (time[i], open[i], ...); time is the open time (epoch ms), ascending. */
    time: candleColumn,
    open: candleColumn,
    high: candleColumn,
    low: candleColumn,
    close: candleColumn,
    volume: candleColumn,
    /** The bar still forming (live feeds only). */
    forming: candleSchema.nullable(),
    /** True when older bars exist before the first one returned. */
    hasMoreBefore: z.boolean(),
    source: z.enum(['live', 'store']),
  })
  .superRefine((r, ctx) => {
    const n = r.time.length;
    for (const field of ['open', 'high', 'low', 'close', 'volume'] as const) {
      if (r[field].length !== n)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${r[field].length} values, expected ${n} (as time)`,
        });
    }
    for (let i = 1; i < n; i++) {
      if (!(r.time[i]! > r.time[i - 1]!)) {
        ctx.addIssue({ code: 'custom', path: ['time', i], message: 'times must strictly increase' });
        break;
      }
    }
  });
export type CandlesResponse = z.infer<typeof candlesResponseSchema>;

export const barUpdateSchema = z.object({
  venue: z.string(),
  symbol: z.string(),
  timeframe,
  bar: candleSchema,
  /** Closed bars are final; forming ones are replaced by later updates for the same time. */
  isClosed: z.boolean(),
});
export type BarUpdate = z.infer<typeof barUpdateSchema>;

export const importResponseSchema = z.object({
  file: z.string(),
  layout: z.string(),
  venue: z.string(),
  symbol: z.string(),
  timeframe,
  barCount: z.number().int(),
  firstMs: z.number(),
  lastMs: z.number(),
  inserted: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
});

const empty = z.object({}).strict();

export const marketRequests = defineRequests({
  'market:symbols': {
    request: empty,
    response: z.object({
      symbols: z.array(z.object({ venue: z.string(), symbol: z.string() })),
      tickers: z.array(tickerSchema),
    }),
    description: 'Symbols of the connected feeds (demo venue first) with their latest tickers.',
  },
  'market:candles': {
    request: z
      .object({
        venue,
        symbol,
        timeframe,
        fromMs: epochMs.optional(),
        toMs: epochMs.optional(),
        limit: z.number().int().min(1).max(MAX_CANDLES_PER_REQUEST).optional(),
        /** With limit: the bars just before toMs (scroll-back). */
        fromEnd: z.boolean().optional(),
      })
      .strict(),
    response: candlesResponseSchema,
    description:
      'Bars of a series in [fromMs, toMs) as columns, from the live feed (demo/ccxt) or from market.db.',
  },
  'market:series': {
    request: empty,
    response: z.object({ series: z.array(seriesInfoSchema) }),
    description: 'Stored series in market.db with first/last bar time and bar count.',
  },
  'market:gaps': {
    request: z
      .object({ venue, symbol, timeframe, maxGaps: z.number().int().min(1).max(10_000).optional() })
      .strict(),
    response: z.object({
      /** '24/7' (every slot expected) or 'weekdays' (the series has no weekend bars: a stock exchange). */
      calendar: z.enum(['24/7', 'weekdays']),
      gaps: z.array(gapSchema),
      gapCount: z.number().int(),
      missingBars: z.number().int(),
      /** Weekday calendars: runs of 1-2 whole weekdays without bars (exchange holidays), not gaps. */
      closures: z.array(gapSchema),
      closureCount: z.number().int(),
      closedBars: z.number().int(),
    }),
    description:
      'Missing bars of a stored series against its session calendar (weekends are not gaps for a series that never trades on them; 1-2 day closures are listed apart).',
  },
  'market:import': {
    request: z
      .object({
        venue,
        symbol,
        timeframe: timeframe.optional(),
        format: z.enum(['csv', 'json']).optional(),
        timestampUnit: z.enum(['auto', 's', 'ms', 'us', 'ns']).optional(),
        timeLabel: z.enum(['open', 'close']).optional(),
        // Content, never a path: the renderer is untrusted and must not make the engine read
        // arbitrary files (error messages quote cell text). The CLI imports by path directly.
        content: z.string().min(1).max(MAX_IMPORT_CONTENT_CHARS),
        fileName: z.string().min(1).max(255),
      })
      .strict(),
    response: importResponseSchema,
    description:
      'Imports a candle file (CSV or Freqtrade JSON) into market.db, all or nothing; DATA_INVALID lists every bad row.',
  },
  'market:deleteSeries': {
    request: z.object({ venue, symbol, timeframe }).strict(),
    response: z.object({ deletedBars: z.number().int() }),
    description: 'Deletes a stored series from market.db.',
  },
  'market:replay': {
    request: z
      .object({
        venue,
        symbol,
        timeframe,
        fromMs: epochMs.optional(),
        toMs: epochMs.optional(),
        speed: z.union([z.number().min(1).max(1_000_000), z.literal('max')]),
      })
      .strict(),
    response: z.object({
      venue: z.literal('replay'),
      symbol: z.string(),
      timeframe,
      barCount: z.number().int(),
    }),
    description:
      'Replays a stored series as the live feed of venue "replay" (bars at their close times, speed 1x..max); replaces any running replay.',
  },
  'market:replayControl': {
    request: z
      .object({
        action: z.enum(['pause', 'resume', 'stop', 'speed']),
        speed: z.union([z.number().min(1).max(1_000_000), z.literal('max')]).optional(),
      })
      .strict(),
    response: z.object({
      state: z.enum(['idle', 'playing', 'paused', 'finished', 'none']),
      dataTimeMs: z.number().nullable(),
    }),
    description: 'Pauses, resumes, stops or changes the speed of the running replay.',
  },
  'market:health': {
    request: empty,
    response: z.object({ feeds: z.array(feedHealthSchema) }),
    description: 'Health of every feed subscription (state, last message, messages/s, gaps).',
  },
});

export const marketStreams = defineStreams({
  'market:ticks': {
    payload: z.object({ tickers: z.array(tickerSchema) }),
    mode: 'latest',
    description:
      'Latest ticker of every subscribed symbol (last, bid, ask, 24 h reference and volume), up to 4 per second.',
  },
  'market:bar': {
    payload: barUpdateSchema,
    mode: 'batch',
    description:
      'Bar updates of live feeds for every timeframe: closed bars once, forming bars up to 4 times per second.',
  },
  'market:health': {
    payload: z.object({ feeds: z.array(feedHealthSchema) }),
    mode: 'latest',
    description: 'Feed health whenever a subscription changes state (e.g. live -> stale).',
  },
});
