import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { ccxtVenueField, epochMsField, symbolField } from './fields.ts';
import { TIMEFRAMES } from '../market.ts';

/**
 * Training a model from the app (the Model manager's Train section): a job on a worker thread with
 * progress and cancel. The renderer is untrusted, so it names a stored series in market.db
 * (venue/symbol/timeframe), never a file path; the engine writes the model into the user models
 * folder (<dataDir>/models) where the model registry finds it. The limits match `vantage train`.
 */

const venue = ccxtVenueField;
const symbol = symbolField;
const epochMs = epochMsField;
const jobId = z.string().min(1).max(64);

/** Model names become file names: the same rule as `vantage train --name`. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** sign:H, above:H:X or return:H (checked in full by the engine's label parser). */
const LABEL_PATTERN = /^(sign:[0-9]{1,5}|return:[0-9]{1,5}|above:[0-9]{1,5}:-?[0-9.eE+-]{1,24})$/;

export const trainRequestSchema = z
  .object({
    venue,
    symbol,
    timeframe: z.enum(TIMEFRAMES),
    /** Optional bar range of the stored series (bar open time, fromMs inclusive, toMs exclusive); default: all of it. */
    fromMs: epochMs.optional(),
    toMs: epochMs.optional(),
    label: z.string().min(1).max(40).regex(LABEL_PATTERN, 'sign:H, above:H:X or return:H (e.g. sign:12)'),
    model: z.enum(['gbdt', 'logistic']).default('gbdt'),
    /** File name of the model in the models folder; default: <symbol>-<timeframe>-<label>. */
    name: z.string().regex(MODEL_NAME_PATTERN, "1-100 letters, digits, '.', '_' or '-'").optional(),
    trees: z.number().int().min(1).max(10_000).optional(),
    depth: z.number().int().min(1).max(16).optional(),
    learningRate: z.number().finite().gt(0).max(1).optional(),
    minLeaf: z.number().int().min(1).max(10_000_000).optional(),
    folds: z.number().int().min(1).max(50).optional(),
    /** Bars; default: the label horizon. */
    embargo: z.number().int().min(0).max(100_000).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    /** Replace a model of the same name in the models folder (otherwise that is a CONFLICT). */
    overwrite: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.fromMs === undefined || r.toMs === undefined || r.toMs > r.fromMs, {
    message: 'toMs must be after fromMs',
    path: ['toMs'],
  });
export type TrainRequest = z.input<typeof trainRequestSchema>;

/** What the finished model promises, from its card: out-of-sample figures only (walk-forward). */
export const trainResultSchema = z.object({
  name: z.string(),
  /** The user models folder the files were written to. */
  folder: z.string(),
  onnxFile: z.string(),
  cardFile: z.string(),
  sha256: z.string(),
  task: z.enum(['binary-classification', 'regression']),
  bars: z.number().int().nonnegative(),
  usableRows: z.number().int().nonnegative(),
  folds: z.number().int().nonnegative(),
  outOfSampleRows: z.number().int().nonnegative(),
  /** Classification: ROC AUC / accuracy / positive rate out of sample; null for regression. */
  auc: z.number().nullable(),
  accuracy: z.number().nullable(),
  positiveRate: z.number().nullable(),
  /** Regression: correlation / direction accuracy out of sample; null for classification. */
  correlation: z.number().nullable(),
  directionAccuracy: z.number().nullable(),
  /** Out-of-sample threshold strategy after fees vs buy-and-hold over the same bars (compounded). */
  strategyReturn: z.number().nullable(),
  buyAndHoldReturn: z.number().nullable(),
  /** The card's plain verdict (out-of-sample strategy vs buy-and-hold over the same bars). */
  verdict: z.string(),
});
export type TrainResultSummary = z.infer<typeof trainResultSchema>;

export const trainJobSchema = z.object({
  jobId: z.string(),
  venue: z.string(),
  symbol: z.string(),
  timeframe: z.enum(TIMEFRAMES),
  label: z.string(),
  model: z.enum(['gbdt', 'logistic']),
  name: z.string(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  /** 0..1 within the current phase. */
  progress: z.number().min(0).max(1),
  phase: z.string(),
  startedMs: z.number(),
  finishedMs: z.number().nullable(),
  /** What happened, in words (error message when failed). */
  message: z.string(),
  result: trainResultSchema.nullable(),
});
export type TrainJob = z.infer<typeof trainJobSchema>;

export const trainingRequests = defineRequests({
  'training:start': {
    request: trainRequestSchema,
    response: trainJobSchema,
    description:
      'Trains a model on a stored series on a worker thread (walk-forward evaluation) and saves it into the user models folder.',
  },
  'training:cancel': {
    request: z.object({ jobId }).strict(),
    response: trainJobSchema,
    description: 'Cancels a running training; nothing is written.',
  },
  'training:jobs': {
    request: z.object({}).strict(),
    response: z.object({ jobs: z.array(trainJobSchema) }),
    description: 'Trainings of this session, newest first.',
  },
});

export const trainingStreams = defineStreams({
  'training:changed': {
    payload: z.object({ jobs: z.array(trainJobSchema) }),
    mode: 'latest',
    description: 'Training jobs with their progress and results.',
  },
});
