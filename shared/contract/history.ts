import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { ccxtVenueField, epochMsField, symbolField } from './fields.ts';
import { TIMEFRAMES } from '../market.ts';

/** Downloading candle history from a venue into market.db, as jobs with progress and cancel. */

const venue = ccxtVenueField;
const symbol = symbolField;
const epochMs = epochMsField;
const jobId = z.string().min(1).max(64);

export const fetchJobSchema = z.object({
  jobId: z.string(),
  venue: z.string(),
  symbol: z.string(),
  timeframe: z.enum(TIMEFRAMES),
  sinceMs: z.number(),
  untilMs: z.number().nullable(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  fetchedBars: z.number().int().nonnegative(),
  expectedBars: z.number().int().nonnegative(),
  lastBarMs: z.number().nullable(),
  startedMs: z.number(),
  finishedMs: z.number().nullable(),
  /** What happened, in words (error message, resume point, retries). */
  message: z.string(),
  insertedBars: z.number().int().nonnegative(),
  storedBars: z.number().int().nonnegative(),
});
export type FetchJob = z.infer<typeof fetchJobSchema>;

export const historyRequests = defineRequests({
  'history:fetch': {
    request: z
      .object({ venue, symbol, timeframe: z.enum(TIMEFRAMES), sinceMs: epochMs, untilMs: epochMs.optional() })
      .strict()
      .refine((r) => r.untilMs === undefined || r.untilMs > r.sinceMs, {
        message: 'untilMs must be after sinceMs',
        path: ['untilMs'],
      }),
    response: fetchJobSchema,
    description:
      'Starts downloading candles from a venue into market.db (resumes after the last stored bar).',
  },
  'history:cancel': {
    request: z.object({ jobId }).strict(),
    response: fetchJobSchema,
    description: 'Cancels a running download; pages already stored are kept.',
  },
  'history:jobs': {
    request: z.object({}).strict(),
    response: z.object({ jobs: z.array(fetchJobSchema) }),
    description: 'Downloads of this session, newest first.',
  },
});

export const historyStreams = defineStreams({
  'history:changed': {
    payload: z.object({ jobs: z.array(fetchJobSchema) }),
    mode: 'latest',
    description: 'Download jobs with their progress.',
  },
});
