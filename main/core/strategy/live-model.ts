import { readFileSync } from 'node:fs';
import { appError } from '../../../shared/errors.ts';
import type { Candle } from '../../../shared/market.ts';
import type { Explanation } from '../../../shared/contract/models.ts';
import { FeaturePipeline } from '../features/pipeline.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelSession } from '../models/session.ts';
import { scoreOutput, type CheckedCard } from '../models/card.ts';
import { Explainer } from '../models/explain/explain.ts';
import type { RandomSource } from '../random.ts';
import type { Prediction } from './types.ts';

/**
 * A model driving a live strategy: on each closed bar the streaming feature pipeline (built from
 * the model card's feature spec, the same definition training and backtests use) gives the input
 * row, the model runs on it (ModelSession: a worker thread) and the outputs become the strategy's
 * ctx.prediction. Output names follow the backtester's (main/core/backtest/model-predictions.ts):
 * `p_up` (P(label 1) from `probabilities`, else the logistic of `margin`) and `margin`; any other
 * float output is passed under its own name (its last column).
 *
 * explain() explains the latest input row: TreeSHAP straight from the trees for tree ensembles,
 * Shapley against a background sample otherwise (the card's, else recent input rows).
 */

export interface ModelRef {
  name: string;
  version: string;
  sha256: string;
}

/** Registry calls this file uses (ModelRegistry implements them). */
export type ModelSource = Pick<ModelRegistry, 'load' | 'entry'>;

const BACKGROUND_KEEP = 256;
const BACKGROUND_ROWS = 32;

export class LiveModel {
  readonly ref: ModelRef;
  /** Raw (unnormalised) input column names, in model order. */
  readonly columns: readonly string[];
  private readonly pipeline: FeaturePipeline;
  private readonly session: ModelSession;
  private readonly checked: CheckedCard;
  private readonly explainer: Explainer;
  private readonly scored: string;
  /** Copy of the latest complete input row (null while warming up) and its raw values. */
  private latestInput: Float32Array | null = null;
  private latestRaw: Float64Array | null = null;
  private latestTimeMs = NaN;
  private readonly recentInputs: Float32Array[] = [];

  private constructor(session: ModelSession, checked: CheckedCard, onnxPath: string, random: RandomSource) {
    this.session = session;
    this.checked = checked;
    const card = checked.card;
    this.ref = { name: card.name, version: card.version, sha256: card.sha256 };
    this.pipeline = new FeaturePipeline(checked.spec);
    this.columns = this.pipeline.names;
    this.scored = scoreOutput(card).name;
    const spec = checked.spec;
    this.explainer = new Explainer({
      session,
      bytes: readFileSync(onnxPath),
      columns: checked.columns,
      windowBars: spec.layout.kind === 'window' ? spec.layout.windowBars : 1,
      random,
      scoredOutput: this.scored,
    });
  }

  /** Loads (or reuses) the model's session from the registry and checks it has a usable card. */
  static async open(models: ModelSource, name: string, random: RandomSource): Promise<LiveModel> {
    const entry = models.entry(name);
    const session = await models.load(name);
    if (!entry.checked) throw appError('MODEL_INVALID', `Model ${name} has no valid card.`, { name });
    return new LiveModel(session, entry.checked, entry.onnxPath, random);
  }

  /** Warm-up: feeds a historical bar to the feature pipeline without running the model. */
  warm(bar: Candle): void {
    this.step(bar);
  }

  /** Feeds a closed bar; runs the model when the input row is complete. closeMs is the prediction's time. */
  async predict(symbol: string, bar: Candle, closeMs: number): Promise<Prediction | null> {
    const row = this.step(bar);
    if (!row) return null;
    const out = await this.session.runAll(row, 1);
    const values: Record<string, number> = {};
    const probabilities = out['probabilities']?.data as Float32Array | undefined;
    const margin = out['margin']?.data as Float32Array | undefined;
    if (margin) values['margin'] = margin[0]!;
    if (probabilities && probabilities.length >= 2) values['p_up'] = probabilities[1]!;
    else if (margin) values['p_up'] = 1 / (1 + Math.exp(-margin[0]!));
    for (const o of this.checked.card.outputs) {
      if (o.dtype !== 'float32' || o.name === 'probabilities' || o.name === 'margin') continue;
      const data = out[o.name]?.data as Float32Array | undefined;
      if (data && data.length > 0) values[o.name] = data[data.length - 1]!;
    }
    for (const [k, v] of Object.entries(values)) {
      if (!Number.isFinite(v))
        throw appError(
          'INFERENCE_FAILED',
          `Model ${this.ref.name} returned ${v} for '${k}' at bar ${bar.time}.`,
        );
    }
    if (Object.keys(values).length === 0)
      throw appError('INFERENCE_FAILED', `Model ${this.ref.name} returned no float output.`);
    return { symbol, tsMs: closeMs, values, explanationId: `${this.ref.name}@${bar.time}` };
  }

  /** Raw values of the model's input columns at the latest bar (NaN while warming up). */
  featureValues(): Record<string, number> {
    const out: Record<string, number> = {};
    const latest = this.pipeline.latest;
    this.columns.forEach((name, i) => (out[name] = latest[i]!));
    return out;
  }

  /** Explains the latest prediction (the latest complete input row); null while warming up. */
  async explain(): Promise<Explanation | null> {
    const x = this.latestInput;
    if (!x || !this.latestRaw) return null;
    let background: Float32Array | undefined;
    if (this.explainer.method !== 'tree-shap') {
      const stored = this.checked.card.background;
      if (stored) background = Float32Array.from(stored.rows.flat());
      else {
        const rows = this.recentInputs;
        const k = Math.min(BACKGROUND_ROWS, rows.length);
        background = new Float32Array(k * x.length);
        for (let i = 0; i < k; i++) background.set(rows[Math.floor((i * rows.length) / k)]!, i * x.length);
      }
    }
    const explanation = await this.explainer.explain(
      { x, values: this.latestRaw, ...(background ? { background } : {}) },
      this.scored,
    );
    return { model: this.ref.name, timeMs: this.latestTimeMs, ...explanation };
  }

  private step(bar: Candle): Float32Array | null {
    const row = this.pipeline.update(bar);
    if (!row) {
      this.latestInput = null;
      this.latestRaw = null;
      return null;
    }
    // The pipeline reuses its buffer: keep copies for the explanation and the background sample.
    const copy = row.slice();
    this.latestInput = copy;
    this.latestRaw = Float64Array.from(this.pipeline.latest);
    this.latestTimeMs = bar.time;
    this.recentInputs.push(copy);
    if (this.recentInputs.length > BACKGROUND_KEEP) this.recentInputs.shift();
    return copy;
  }
}
