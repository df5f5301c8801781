import * as ort from 'onnxruntime-node';
import * as hdr from 'hdr-histogram-js';
import { appError } from '../../../shared/errors.ts';
import { describeRuntime, type RuntimeInfo } from './runtime-info.ts';
import type { RuntimeCard } from './card.ts';
import { ThreadedInference, type ThreadedOutputs } from './threaded-inference.ts';
import { scoreOutput } from './card.ts';

/**
 * One loaded model: an ONNX Runtime session on the best available execution provider, checked
 * against its card, warmed up, with a latency histogram. Batches go to a worker thread
 * (ThreadedInference): onnxruntime-node 1.30's `run` is a synchronous native call behind a
 * setImmediate, so run on the engine thread it would stall the event loop for the whole batch.
 *
 * Batch-1 runs (the live decision path) are placed where they finish soonest without holding the
 * engine thread longer than handing them over would: a hand-off to the worker holds the thread
 * for up to ThreadedInference's poll (150 µs) and pays a cross-thread wake-up whose tail on a
 * virtual machine is hundreds of µs. So at load the model's batch-1 run is timed on the engine
 * thread (CPU provider, INLINE_PROBE_RUNS runs); if its p98 is within INLINE_BUDGET_US,
 * batch-1 runs stay on the engine thread, bounded by that budget, and everything else goes to the
 * worker. A model whose inline runs later exceed the budget more than INLINE_MAX_SLOW_SHARE of
 * the time (checked every INLINE_WINDOW runs) moves to the worker for good. Options can force
 * the worker (`inlineSingleRows: false`).
 */

/** Longest a batch-1 run may hold the engine thread (µs): below the 150 µs a hand-off may poll. */
export const INLINE_BUDGET_US = 100;
const INLINE_PROBE_RUNS = 256;
const INLINE_WINDOW = 1024;
const INLINE_MAX_SLOW_SHARE = 0.02;

export interface SessionOptions {
  /** Ignore GPU providers (also VANTAGE_FORCE_CPU=1). */
  forceCpu?: boolean;
  /** Try only this provider (benchmarks: VANTAGE_BENCH_PROVIDER). */
  provider?: string;
  /** Allow batch-1 runs on the engine thread when they are short enough (default true). */
  inlineSingleRows?: boolean;
  /** The engine-thread budget per batch-1 run in µs (default INLINE_BUDGET_US). */
  inlineBudgetUs?: number;
  /** Runs per check of the engine-thread runs against the budget (default 1,024). */
  inlineWindow?: number;
}

export interface LatencySummary {
  /** Single-row runs (interactive latency): count and percentiles in microseconds. */
  count: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** Multi-row runs (backtests, the prediction pane, Shapley batches). */
  batchRuns: number;
  batchRows: number;
  /** Rows per second over all multi-row runs (0 before the first). */
  batchRowsPerSecond: number;
  /** Where batch-1 runs execute: the engine thread (short enough, see ModelSession) or the worker. */
  singleRowThread: 'engine' | 'worker';
}

function dtypeOf(type: string): string {
  return type === 'float32' ? 'float32' : type === 'int64' ? 'int64' : type;
}

function shapeMatches(actual: readonly (number | string)[], expected: readonly (number | string)[]): boolean {
  if (actual.length !== expected.length) return false;
  // A named (symbolic) dimension in the card matches any symbolic or concrete dimension in the
  // file; a number must match exactly.
  return expected.every((d, i) => typeof d === 'string' || actual[i] === d);
}

export function isForceCpu(options: SessionOptions): boolean {
  return options.forceCpu === true || process.env['VANTAGE_FORCE_CPU'] === '1';
}

function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/** Checks the session's declared inputs/outputs against the card; MODEL_INVALID names the field. */
export function checkSignature(session: ort.InferenceSession, card: RuntimeCard): void {
  const check = (
    kind: 'inputs' | 'outputs',
    declared: readonly ort.InferenceSession.ValueMetadata[],
    expected: RuntimeCard['inputs'],
  ): void => {
    if (kind === 'inputs' && declared.length !== expected.length)
      throw appError(
        'MODEL_INVALID',
        `Model card invalid at inputs: the ONNX file has ${declared.length} inputs (${declared.map((d) => d.name).join(', ')}), the card lists ${expected.length}`,
        { field: 'inputs' },
      );
    expected.forEach((e, i) => {
      const d = declared.find((x) => x.name === e.name);
      if (!d)
        throw appError(
          'MODEL_INVALID',
          `Model card invalid at ${kind}.${i}.name: the ONNX file has no ${kind === 'inputs' ? 'input' : 'output'} '${e.name}' (it has ${declared.map((x) => x.name).join(', ')})`,
          { field: `${kind}.${i}.name` },
        );
      if (!d.isTensor)
        throw appError(
          'MODEL_INVALID',
          `Model card invalid at ${kind}.${i}: '${e.name}' is not a tensor in the ONNX file`,
          {
            field: `${kind}.${i}`,
          },
        );
      if (dtypeOf(d.type) !== e.dtype)
        throw appError(
          'MODEL_INVALID',
          `Model card invalid at ${kind}.${i}.dtype: the card says ${e.dtype}, the ONNX file has ${d.type}`,
          { field: `${kind}.${i}.dtype` },
        );
      if (d.shape.length > 0 && !shapeMatches(d.shape, e.shape))
        throw appError(
          'MODEL_INVALID',
          `Model card invalid at ${kind}.${i}.shape: the card says ${describeShape(e.shape)}, the ONNX file has ${describeShape(d.shape)}`,
          { field: `${kind}.${i}.shape` },
        );
    });
  };
  check('inputs', session.inputMetadata, card.inputs);
  check('outputs', session.outputMetadata, card.outputs);
}

export class ModelSession {
  readonly card: RuntimeCard;
  readonly provider: string;
  /** Why faster providers were not used (empty when the first choice worked). */
  readonly providerNotes: string[];
  readonly runtime: RuntimeInfo;
  /** Values per input row (F, or W x F). */
  readonly rowWidth: number;
  private readonly session: ThreadedInference;
  /** The engine-thread session for batch-1 runs, while they are short enough (null: worker only). */
  private inline: ort.InferenceSession | null = null;
  /** An engine-thread session moved off (a run may still be in flight on it): released with the model. */
  private retiredInline: ort.InferenceSession | null = null;
  private inlineBudgetUs = INLINE_BUDGET_US;
  private inlineWindow = INLINE_WINDOW;
  private inlineRuns = 0;
  private inlineSlowRuns = 0;
  /** Why batch-1 runs are where they are (model list, docs). */
  placementNote = 'batch-1 runs on the inference worker';
  private readonly inputName: string;
  private readonly innerShape: number[];
  /** [1, ...innerShape], built once: batch-1 runs reuse it. */
  private readonly singleRowDims: number[];
  private readonly score: { name: string; column: number; width: number };
  private readonly histogram: hdr.Histogram;
  private batchRuns = 0;
  private batchRows = 0;
  private batchUs = 0;

  private constructor(
    session: ThreadedInference,
    card: RuntimeCard,
    provider: string,
    notes: string[],
    runtime: RuntimeInfo,
    innerShape: number[],
  ) {
    this.session = session;
    this.card = card;
    this.provider = provider;
    this.providerNotes = notes;
    this.runtime = runtime;
    this.inputName = card.inputs[0]!.name;
    this.innerShape = innerShape;
    this.singleRowDims = [1, ...innerShape];
    this.rowWidth = innerShape.reduce((a, b) => a * b, 1);
    this.score = scoreOutput(card);
    // 1 us .. 60 s, 3 significant digits.
    this.histogram = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
  }

  /**
   * Creates the session on the first provider that works (cuda/dml/coreml, then cpu), checks it
   * against the card and warms it up (one run, so the first real request does not pay for
   * allocation and kernel selection).
   */
  static async create(
    bytes: Uint8Array,
    card: RuntimeCard,
    innerShape: number[],
    options: SessionOptions = {},
  ): Promise<ModelSession> {
    const runtime = describeRuntime({ forceCpu: isForceCpu(options) });
    const notes = runtime.providers.filter((p) => !p.available).map((p) => `${p.name}: ${p.reason}`);
    let candidates = runtime.providers.filter((p) => p.available).map((p) => p.name);
    if (options.provider) {
      if (!candidates.includes(options.provider))
        throw appError(
          'MODEL_LOAD_FAILED',
          `Execution provider '${options.provider}' is not available here (${notes.join('; ')})`,
        );
      candidates = [options.provider];
    }
    let lastError: unknown = null;
    for (const provider of candidates) {
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(bytes, {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
          // Small models: one intra-op thread gives the lowest batch-1 latency and leaves cores free.
          intraOpNumThreads: provider === 'cpu' ? 1 : 0,
          interOpNumThreads: 1,
        });
      } catch (error) {
        lastError = error;
        notes.push(`${provider}: session creation failed (${(error as Error).message.split('\n')[0]})`);
        continue;
      }
      let threaded: ThreadedInference | null = null;
      try {
        checkSignature(session, card);
        threaded = await ThreadedInference.create(bytes, {
          provider,
          intraOpNumThreads: provider === 'cpu' ? 1 : 0,
        });
        const model = new ModelSession(threaded, card, provider, notes, runtime, innerShape);
        await model.runBatch(new Float32Array(model.rowWidth), 1);
        model.inlineBudgetUs = options.inlineBudgetUs ?? INLINE_BUDGET_US;
        model.inlineWindow = options.inlineWindow ?? INLINE_WINDOW;
        if (provider === 'cpu' && options.inlineSingleRows !== false) await model.probeInline(session);
        else await session.release();
        model.histogram.reset();
        return model;
      } catch (error) {
        if (threaded) await threaded.close();
        else await session.release();
        throw error;
      }
    }
    throw appError(
      'MODEL_LOAD_FAILED',
      `No execution provider could load the model: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { notes },
    );
  }

  /** Runs `rows` input rows (row-major Float32Array, rows x rowWidth) in one ORT run; all outputs. */
  async runAll(input: Float32Array, rows: number): Promise<Record<string, ort.Tensor>> {
    const out = await this.runOutputs(input, rows);
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, o] of Object.entries(out))
      tensors[name] =
        o.type === 'int64'
          ? new ort.Tensor('int64', o.data as BigInt64Array, o.dims)
          : new ort.Tensor('float32', o.data as Float32Array, o.dims);
    return tensors;
  }

  /** One timed run on the worker: outputs as plain arrays (no ort.Tensor objects). */
  private async runOutputs(input: Float32Array, rows: number): Promise<ThreadedOutputs> {
    if (input.length !== rows * this.rowWidth)
      throw appError('BAD_INPUT', `Expected ${rows} x ${this.rowWidth} values, got ${input.length}.`);
    const dims = rows === 1 ? this.singleRowDims : [rows, ...this.innerShape];
    const start = performance.now();
    const inline = rows === 1 ? this.inline : null;
    const out = inline
      ? await this.runInline(inline, input, dims)
      : await this.session.run(this.inputName, input, dims);
    const us = (performance.now() - start) * 1000;
    if (inline) this.recordInline(us);
    // Batch-1 runs go to the latency histogram; larger batches would swamp it, so they count rows/s.
    if (rows === 1) this.histogram.recordValue(Math.max(1, Math.round(us)));
    else {
      this.batchRuns++;
      this.batchRows += rows;
      this.batchUs += us;
    }
    return out;
  }

  /** The score (see scoreOutput) for each of `rows` rows, one ORT run. */
  async runBatch(input: Float32Array, rows: number): Promise<Float64Array> {
    const out = await this.runOutputs(input, rows);
    const t = out[this.score.name];
    if (!t) throw appError('MODEL_LOAD_FAILED', `The model did not return output '${this.score.name}'.`);
    const data = t.data as Float32Array;
    const result = new Float64Array(rows);
    for (let r = 0; r < rows; r++) result[r] = data[r * this.score.width + this.score.column]!;
    return result;
  }

  /**
   * Times INLINE_PROBE_RUNS batch-1 runs on the engine thread (after one untimed run): if at most
   * INLINE_MAX_SLOW_SHARE of them exceed the budget, batch-1 runs stay on this thread; otherwise
   * the session is released and everything runs on the worker.
   */
  private async probeInline(session: ort.InferenceSession): Promise<void> {
    const row = new Float32Array(this.rowWidth);
    const dims = this.singleRowDims;
    await this.runInline(session, row, dims);
    const times = new Float64Array(INLINE_PROBE_RUNS);
    for (let i = 0; i < INLINE_PROBE_RUNS; i++) {
      const start = performance.now();
      await this.runInline(session, row, dims);
      times[i] = (performance.now() - start) * 1000;
    }
    times.sort();
    // The same rule as for the runs that follow (INLINE_MAX_SLOW_SHARE): a few slow runs are a
    // preempted thread, not a slow model.
    const allowedSlow = Math.floor(INLINE_MAX_SLOW_SHARE * INLINE_PROBE_RUNS);
    const p98Us = times[INLINE_PROBE_RUNS - 1 - allowedSlow]!;
    const measured = `p98 of ${INLINE_PROBE_RUNS} timed runs ${Math.round(p98Us)} µs, budget ${this.inlineBudgetUs} µs`;
    if (p98Us <= this.inlineBudgetUs) {
      this.inline = session;
      this.placementNote = `batch-1 runs on the engine thread (${measured}); batches on the inference worker`;
    } else {
      await session.release();
      this.placementNote = `batch-1 runs on the inference worker (engine thread: ${measured})`;
    }
  }

  private async runInline(
    session: ort.InferenceSession,
    input: Float32Array,
    dims: number[],
  ): Promise<ThreadedOutputs> {
    // A copy, as the worker's shared buffer is: the run starts on a later turn (ORT defers it with
    // setImmediate), and the caller may reuse its array once runBatch returned.
    const results = await session.run({ [this.inputName]: new ort.Tensor('float32', input.slice(), dims) });
    const out: ThreadedOutputs = {};
    for (const [name, tensor] of Object.entries(results))
      out[name] = {
        data: tensor.data as Float32Array | BigInt64Array,
        dims: [...tensor.dims],
        type: tensor.type,
      };
    return out;
  }

  /** Keeps batch-1 runs on the engine thread only while they keep within the budget. */
  private recordInline(us: number): void {
    this.inlineRuns++;
    if (us > this.inlineBudgetUs) this.inlineSlowRuns++;
    if (this.inlineRuns < this.inlineWindow) return;
    if (this.inlineSlowRuns > INLINE_MAX_SLOW_SHARE * this.inlineRuns) {
      const share = ((100 * this.inlineSlowRuns) / this.inlineRuns).toFixed(1);
      this.retiredInline = this.inline;
      this.inline = null;
      this.placementNote = `batch-1 runs on the inference worker (moved: ${share}% of ${this.inlineRuns} engine-thread runs took over ${this.inlineBudgetUs} µs)`;
    }
    this.inlineRuns = 0;
    this.inlineSlowRuns = 0;
  }

  latency(): LatencySummary {
    const h = this.histogram;
    return {
      count: h.totalCount,
      p50Us: h.totalCount > 0 ? h.getValueAtPercentile(50) : 0,
      p99Us: h.totalCount > 0 ? h.getValueAtPercentile(99) : 0,
      maxUs: h.totalCount > 0 ? h.maxValue : 0,
      batchRuns: this.batchRuns,
      batchRows: this.batchRows,
      batchRowsPerSecond: this.batchUs > 0 ? this.batchRows / (this.batchUs / 1e6) : 0,
      singleRowThread: this.inline ? 'engine' : 'worker',
    };
  }

  async release(): Promise<void> {
    const sessions = [this.inline, this.retiredInline];
    this.inline = null;
    this.retiredInline = null;
    for (const session of sessions) await session?.release();
    await this.session.close();
    this.histogram.destroy();
  }
}
