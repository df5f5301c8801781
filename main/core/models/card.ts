import { z } from 'zod';
import { appError } from '../../../shared/errors.ts';
import type { FeatureSpec } from '../../../shared/feature-spec.ts';
import { featureColumnNames, parseFeatureSpec } from '../features/pipeline.ts';
import type { ModelCardDocument } from '../training/card.ts';

/**
 * Checks a model card (the training helper's ModelCardDocument, or a user's hand-written card with
 * at least the fields the runtime needs) and turns every problem into MODEL_INVALID naming the field
 * (`details.field`, a dotted path), so the CLI and the Model manager can show it next to the field.
 */

/** Cards may carry the sample explanations are measured against (rows of normalised model input). */
export interface BackgroundSample {
  /** Each row is one full model input (F values, or W x F for window layouts), row-major. */
  rows: number[][];
  /** Where the rows came from (e.g. "every 200th training row"). */
  source?: string;
}

/** The parts of a card the runtime reads; the rest of a ModelCardDocument is kept as is for display. */
export type RuntimeCard = Pick<
  ModelCardDocument,
  'name' | 'version' | 'sha256' | 'inputs' | 'outputs' | 'featureSpec'
> &
  Partial<Omit<ModelCardDocument, 'name' | 'version' | 'sha256' | 'inputs' | 'outputs' | 'featureSpec'>> & {
    background?: BackgroundSample;
  };

export const MAX_CARD_BYTES = 4 * 1024 * 1024;
export const MAX_BACKGROUND_ROWS = 256;

const tensorSchema = z
  .object({
    name: z.string().min(1).max(128),
    dtype: z.enum(['float32', 'int64']),
    shape: z
      .array(z.union([z.number().int().min(1), z.string().min(1).max(32)]))
      .min(1)
      .max(4),
    meaning: z.string().max(2000).default(''),
  })
  .strict();

const cardSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ - (1-64 characters)'),
    version: z.string().min(1).max(32),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
    inputs: z.array(tensorSchema).length(1, 'exactly one input tensor (the feature rows)'),
    outputs: z.array(tensorSchema).min(1).max(8),
    featureSpec: z.unknown(),
    background: z
      .object({
        rows: z.array(z.array(z.number().finite()).max(1_000_000)).min(1).max(MAX_BACKGROUND_ROWS),
        source: z.string().max(500).optional(),
      })
      .strict()
      .optional(),
  })
  .passthrough();

function invalid(field: string, message: string): never {
  throw appError('MODEL_INVALID', `Model card invalid at ${field}: ${message}`, { field });
}

/** The feature spec and its column names (validated: every feature exists in the catalog). */
export interface CheckedCard {
  card: RuntimeCard;
  spec: FeatureSpec;
  columns: string[];
}

/** Parses a card's JSON text and checks it against itself (shapes vs feature spec). */
export function checkCard(value: unknown): CheckedCard {
  const parsed = cardSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    invalid(issue.path.length > 0 ? issue.path.join('.') : '(root)', issue.message);
  }
  let spec: FeatureSpec;
  try {
    spec = parseFeatureSpec(parsed.data.featureSpec);
  } catch (error) {
    const details = (error as { details?: { path?: string[] } }).details;
    const path =
      details?.path && details.path.length > 0 ? `featureSpec.${details.path.join('.')}` : 'featureSpec';
    invalid(path, (error as Error).message);
  }
  const columns = featureColumnNames(spec);
  const card = { ...parsed.data, featureSpec: spec } as unknown as RuntimeCard;
  const input = card.inputs[0]!;
  if (input.dtype !== 'float32')
    invalid('inputs.0.dtype', `the feature input must be float32, not ${input.dtype}`);
  const expected = spec.layout.kind === 'window' ? 3 : 2;
  if (input.shape.length !== expected)
    invalid(
      'inputs.0.shape',
      `a ${spec.layout.kind} feature spec needs a rank-${expected} input (${expected === 3 ? 'N x W x F' : 'N x F'}), the card says [${input.shape.join(', ')}]`,
    );
  const width = input.shape[expected - 1];
  if (width !== columns.length)
    invalid(
      'inputs.0.shape',
      `last dimension is ${String(width)} but the feature spec has ${columns.length} columns`,
    );
  if (spec.layout.kind === 'window' && input.shape[1] !== spec.layout.windowBars)
    invalid(
      'inputs.0.shape',
      `window dimension is ${String(input.shape[1])} but the spec has windowBars ${spec.layout.windowBars}`,
    );
  if (card.featureColumns && card.featureColumns.join('\u0000') !== columns.join('\u0000'))
    invalid(
      'featureColumns',
      `[${card.featureColumns.join(', ')}] differs from the spec's columns [${columns.join(', ')}]`,
    );
  if (!card.outputs.some((o) => o.dtype === 'float32'))
    invalid('outputs', 'at least one float32 output is needed (the score that is predicted and explained)');
  if (card.background) {
    const rowWidth = spec.layout.kind === 'window' ? spec.layout.windowBars * columns.length : columns.length;
    card.background.rows.forEach((row, i) => {
      if (row.length !== rowWidth)
        invalid(`background.rows.${i}`, `has ${row.length} values, the model input row has ${rowWidth}`);
    });
  }
  return { card, spec, columns };
}

/** Parses card JSON text (bounded size) and checks it. */
export function parseCardText(text: string): CheckedCard {
  if (text.length > MAX_CARD_BYTES)
    invalid('(root)', `the card is ${text.length} bytes; the limit is ${MAX_CARD_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    invalid('(root)', `not JSON: ${(error as Error).message}`);
  }
  return checkCard(value);
}

/**
 * The output the runtime predicts and explains: `margin` (log-odds) when the model has one (the
 * units of TreeSHAP), else the last column of the first float32 output (e.g. P(label 1) of
 * `probabilities`, or a regressor's `prediction`).
 */
export function scoreOutput(card: RuntimeCard): { name: string; column: number; width: number } {
  const margin = card.outputs.find((o) => o.name === 'margin' && o.dtype === 'float32');
  const out = margin ?? card.outputs.find((o) => o.dtype === 'float32')!;
  const last = out.shape.length > 1 ? out.shape[out.shape.length - 1] : 1;
  const width = typeof last === 'number' ? last : 1;
  return { name: out.name, column: width - 1, width };
}
