import * as ort from 'onnxruntime-node';
import * as hdr from 'hdr-histogram-js';
import { appError } from '../../../shared/errors.ts';
import { describeRuntime, type RuntimeInfo } from './runtime-info.ts';
import type { RuntimeCard } from './card.ts';
import { ThreadedInference, type ThreadedOutputs } from './threaded-inference.ts';
import { scoreOutput } from './card.ts';

/**
 * One loaded model: an ONNX Runtime session on the best available execution provider, checked
 * against its card, warmed up, with a latency histogram. Runs go to a worker thread
 * (ThreadedInference): onnxruntime-node 1.30's `run` is a synchronous native call behind a
 * setImmediate, so run on the engine thread it would stall the event loop for the whole batch.
 * The in-process session is only used to pick the provider and read the declared signature.
 */

export interface SessionOptions {
  /** Ignore GPU providers (also VANTAGE_FORCE_CPU=1). */
  forceCpu?: boolean;
  /** Try only this provider (benchmarks: VANTAGE_BENCH_PROVIDER). */
  provider?: string;
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
        await session.release();
        const model = new ModelSession(threaded, card, provider, notes, runtime, innerShape);
        await model.runBatch(new Float32Array(model.rowWidth), 1);
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
    const out = await this.session.run(this.inputName, input, dims);
    const us = (performance.now() - start) * 1000;
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
    };
  }

  async release(): Promise<void> {
    await this.session.close();
    this.histogram.destroy();
  }
}
