import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { epochMsField, symbolField, timeframeField, venueField } from './fields.ts';
import { appErrorSchema } from '../errors.ts';

/** Local model runtime: registry, load/unload, import, verify, predictions over a chart, explanations. */

const modelName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ -');
const venue = venueField;
const symbol = symbolField;
const timeframe = timeframeField;
const epochMs = epochMsField;

/** Imports travel inside one IPC message (4 MiB): ONNX files up to ~2.2 MB here; larger ones via `vantage models import`. */
export const MAX_IMPORT_ONNX_BASE64 = 3_000_000;
export const MAX_IMPORT_CARD_CHARS = 500_000;
export const MAX_PREDICTION_BARS = 5000;

export const latencySchema = z.object({
  count: z.number().int().nonnegative(),
  p50Us: z.number().nonnegative(),
  p99Us: z.number().nonnegative(),
  maxUs: z.number().nonnegative(),
  batchRuns: z.number().int().nonnegative(),
  batchRows: z.number().int().nonnegative(),
  batchRowsPerSecond: z.number().nonnegative(),
  /** Where batch-1 runs execute: the engine thread (measured short enough) or the inference worker. */
  singleRowThread: z.enum(['engine', 'worker']),
});

export const modelSummarySchema = z.object({
  name: z.string(),
  version: z.string(),
  sha256: z.string(),
  source: z.enum(['bundled', 'user']),
  status: z.enum(['available', 'loaded', 'invalid']),
  provider: z.string().nullable(),
  providerNotes: z.array(z.string()),
  /** Where batch-1 runs execute and why (loaded models), e.g. the engine-thread timing that decided it. */
  placement: z.string().nullable(),
  latency: latencySchema.nullable(),
  error: appErrorSchema.nullable(),
  layout: z.enum(['tabular', 'window']),
  features: z.array(z.string()),
  /** The model card as stored (display only). */
  card: z.record(z.string(), z.unknown()).nullable(),
});
export type ModelSummary = z.infer<typeof modelSummarySchema>;

export const contributionSchema = z.object({
  feature: z.string(),
  value: z.number(),
  contribution: z.number(),
  standardError: z.number().optional(),
});

export const explanationSchema = z.object({
  model: z.string(),
  timeMs: z.number(),
  method: z.enum(['tree-shap', 'exact-shapley', 'sampled-shapley']),
  output: z.string(),
  baseValue: z.number(),
  prediction: z.number(),
  contributions: z.array(contributionSchema),
  backgroundRows: z.number().int().nonnegative(),
  evaluations: z.number().int().nonnegative(),
});
export type Explanation = z.infer<typeof explanationSchema>;

const seriesRequest = {
  /** Omitted: the default (first loaded) model. */
  name: modelName.optional(),
  venue,
  symbol,
  timeframe,
};

export const modelsRequests = defineRequests({
  'models:list': {
    request: z.object({}).strict(),
    response: z.object({
      models: z.array(modelSummarySchema),
      defaultModel: z.string().nullable(),
    }),
    description:
      'Bundled and user models with card, hash, status, active execution provider and latency p50/p99.',
  },
  'models:load': {
    request: z.object({ name: modelName }).strict(),
    response: modelSummarySchema,
    description:
      'Loads a model (hash, signature and feature checks; warm-up) on the best execution provider.',
  },
  'models:unload': {
    request: z.object({ name: modelName }).strict(),
    response: modelSummarySchema,
    description: 'Releases a loaded model session.',
  },
  'models:import': {
    request: z
      .object({
        /** The .onnx file content, base64 (the renderer sends content, never a path). */
        onnxBase64: z
          .string()
          .min(1)
          .max(MAX_IMPORT_ONNX_BASE64)
          .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
        /** The model card, JSON text. */
        cardJson: z.string().min(2).max(MAX_IMPORT_CARD_CHARS),
      })
      .strict(),
    response: modelSummarySchema,
    description:
      'Validates an ONNX model + card (MODEL_INVALID names the field) and copies both into the data folder.',
  },
  'models:verify': {
    request: z.object({ name: modelName }).strict(),
    response: modelSummarySchema.extend({ ok: z.boolean() }),
    description: 'Re-checks a model on disk: sha256, card, ONNX signature.',
  },
  'models:predictions': {
    request: z
      .object({ ...seriesRequest, limit: z.number().int().min(1).max(MAX_PREDICTION_BARS).optional() })
      .strict(),
    response: z.object({
      model: z.string(),
      output: z.string(),
      time: z.array(z.number()),
      /** Null during the features' warm-up. */
      value: z.array(z.number().nullable()),
    }),
    description:
      "The model's output for each of the last `limit` bars, using only bars up to and including each bar.",
  },
  'models:explain': {
    request: z.object({ ...seriesRequest, timeMs: epochMs }).strict(),
    response: explanationSchema,
    description:
      'Explanation (base value, prediction, per-feature contributions) of the prediction at one bar.',
  },
});

export const modelsStreams = defineStreams({
  'models:changed': {
    payload: z.object({ models: z.array(modelSummarySchema) }),
    mode: 'latest',
    description: 'Models and their status after a load, unload or import.',
  },
});
