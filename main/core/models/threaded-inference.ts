import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { appError } from '../../../shared/errors.ts';
import {
  CLOSING,
  CONTROL_WORDS,
  DONE,
  INPUT_DIM_COUNT,
  INPUT_DIMS,
  INPUT_LENGTH,
  MAX_INPUT_DIMS,
  MAX_OUTPUT_DIMS,
  OUTPUT_BASE,
  OUTPUT_COUNT,
  OUTPUT_SLOT,
  REQUEST,
  STATUS,
  STATUS_OK,
  TYPE_FLOAT32,
  SpinPolicy,
  bufferSize,
  type ChannelMessage,
} from './inference-channel.ts';
import type { InferenceThreadInit, InferenceThreadReady } from './inference-thread.ts';

/**
 * Runs an ONNX model on its own worker thread so inference never blocks the engine's event loop.
 *
 * Why a thread: in onnxruntime-node 1.30 `InferenceSession.run` returns a promise, but its wrapper
 * (dist/backend.js) only defers a synchronous native run with setImmediate: the calling thread is
 * busy for the whole run (measured: a 1.4 s run let no 1 ms timer fire).
 *
 * Why shared memory (inference-channel.ts) rather than postMessage: a batch-1 run of a small model
 * takes ~10-20 µs in ORT, and the message round trip (structured clone both ways, two message-port
 * wake-ups, a promise per message, fresh arrays and tensors per run) cost 3-4x that at the median
 * and produced the tail (p99 ≈ 450-570 µs with p50 ≈ 60 µs). Now a run is: copy the rows into the
 * shared input buffer, one Atomics.notify, and on the engine side a bounded poll (small runs, see
 * ENGINE_SPIN_MS) or one Atomics.waitAsync; the worker spins briefly between runs, so
 * back-to-back runs skip the futex wake-up. Requests are answered in
 * order, one at a time; the caller's input array is copied (it may reuse it at once) and the outputs
 * are fresh arrays the caller owns.
 */

export interface ThreadedOutputs {
  [name: string]: { data: Float32Array | BigInt64Array; dims: number[]; type: string };
}

/** Atomics.waitAsync (ES2024; Node ≥ 16) as typed here: the project's TypeScript lib is older. */
type WaitAsyncResult =
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (
  Atomics as unknown as { waitAsync: (array: Int32Array, index: number, value: number) => WaitAsyncResult }
).waitAsync.bind(Atomics);

/**
 * Small runs (at most SPIN_INPUT_VALUES input values: batch-1 and other interactive runs) wait for
 * the reply on the engine thread by polling the shared DONE word for up to ENGINE_SPIN_MS before
 * falling back to Atomics.waitAsync. The trade-off, measured on the 2-core development VM: a
 * batch-1 run of a small model comes back in ~20-40 µs, while the waitAsync wake-up of an idle
 * event loop alone took ~20 µs at the median and 100-300+ µs at p99 (the task has to be posted to
 * the loop, which may be parked in epoll on a halted vCPU). So the engine's event loop is held for
 * at most ENGINE_SPIN_MS per small run, never for a large one, and never for the ORT run itself
 * beyond that bound: a slow run (a long batch, a busy machine) still completes asynchronously.
 * On an oversubscribed machine polling only takes the core the worker needs, so SpinPolicy stops
 * polling after a poll that found no reply, for a doubling number of runs.
 */
const SPIN_INPUT_VALUES = 4096;
const ENGINE_SPIN_MS = 0.15;

interface Request {
  inputName: string;
  input: Float32Array;
  dims: number[];
  resolve: (o: ThreadedOutputs) => void;
  reject: (e: Error) => void;
}

export class ThreadedInference {
  readonly provider: string;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control: Int32Array;
  private input: Float32Array;
  private output: SharedArrayBuffer;
  private readonly outputNames: string[];
  private sentInputName = '';
  private sequence = 0;
  /** The request on the worker now, and those waiting for it (copied inputs). */
  private current: Request | null = null;
  private readonly queue: Request[] = [];
  private closed = false;
  private failure: Error | null = null;
  private readonly spin = new SpinPolicy();

  private constructor(
    worker: Worker,
    port: MessagePort,
    buffers: { control: SharedArrayBuffer; input: SharedArrayBuffer; output: SharedArrayBuffer },
    provider: string,
    outputNames: string[],
  ) {
    this.worker = worker;
    this.port = port;
    this.control = new Int32Array(buffers.control);
    this.input = new Float32Array(buffers.input);
    this.output = buffers.output;
    this.provider = provider;
    this.outputNames = outputNames;
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => this.failAll(new Error('the inference thread exited')));
  }

  /** Starts the worker and creates the session there; rejects with MODEL_LOAD_FAILED if ORT refuses. */
  static async create(
    model: Uint8Array,
    options: { provider?: string; intraOpNumThreads?: number } = {},
  ): Promise<ThreadedInference> {
    const provider = options.provider ?? 'cpu';
    const buffers = {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      input: new SharedArrayBuffer(bufferSize(0)),
      output: new SharedArrayBuffer(bufferSize(0)),
    };
    const { port1, port2 } = new MessageChannel();
    const init: InferenceThreadInit = {
      model,
      provider,
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      ...buffers,
      port: port2,
    };
    const worker = new Worker(new URL('./inference-thread.ts', import.meta.url), {
      workerData: init,
      transferList: [port2],
    });
    const ready = await new Promise<InferenceThreadReady>((resolve) => {
      worker.once('message', (m: InferenceThreadReady) => resolve(m));
      worker.once('error', (error) => resolve({ ok: false, message: error.message }));
      worker.once('exit', () => resolve({ ok: false, message: 'the inference thread exited' }));
    });
    if (!ready.ok) {
      void worker.terminate();
      port1.close();
      throw appError('MODEL_LOAD_FAILED', `Could not create the session: ${ready.message}`);
    }
    return new ThreadedInference(worker, port1, buffers, provider, ready.outputNames);
  }

  /** One run of `input` (row-major, shape `dims`) on the worker; all outputs. */
  run(inputName: string, input: Float32Array, dims: number[]): Promise<ThreadedOutputs> {
    if (this.closed)
      return Promise.reject(
        appError(
          'MODEL_LOAD_FAILED',
          this.failure ? `Inference thread stopped: ${this.failure.message}` : 'The model session is closed.',
        ),
      );
    if (dims.length > MAX_INPUT_DIMS)
      return Promise.reject(
        appError('BAD_INPUT', `An input has at most ${MAX_INPUT_DIMS} dimensions, got ${dims.length}.`),
      );
    return new Promise((resolve, reject) => {
      if (this.current === null) this.send({ inputName, input, dims, resolve, reject });
      else this.queue.push({ inputName, input: input.slice(), dims: [...dims], resolve, reject });
    });
  }

  private send(request: Request): void {
    this.current = request;
    const { input, dims } = request;
    if (input.length > this.input.length) {
      const buffer = new SharedArrayBuffer(bufferSize(input.byteLength));
      this.input = new Float32Array(buffer);
      this.post({ kind: 'input-buffer', buffer });
    }
    if (request.inputName !== this.sentInputName) {
      this.sentInputName = request.inputName;
      this.post({ kind: 'input-name', name: request.inputName });
    }
    this.input.set(input);
    const control = this.control;
    control[INPUT_LENGTH] = input.length;
    control[INPUT_DIM_COUNT] = dims.length;
    for (let i = 0; i < dims.length; i++) control[INPUT_DIMS + i] = dims[i]!;
    const sequence = ++this.sequence;
    Atomics.store(control, REQUEST, sequence);
    Atomics.notify(control, REQUEST);
    if (input.length <= SPIN_INPUT_VALUES && this.spin.shouldSpin()) {
      const isDone = this.spinForReply(sequence);
      this.spin.record(isDone);
      if (isDone) {
        this.receive(sequence);
        return;
      }
    }
    const wait = waitAsync(control, DONE, sequence - 1);
    if (wait.async) void wait.value.then(() => this.receive(sequence));
    else this.receive(sequence);
  }

  /** Polls DONE for at most ENGINE_SPIN_MS; true when the reply came. */
  private spinForReply(sequence: number): boolean {
    const control = this.control;
    const until = performance.now() + ENGINE_SPIN_MS;
    do {
      if (Atomics.load(control, DONE) === sequence) return true;
    } while (performance.now() < until);
    return Atomics.load(control, DONE) === sequence;
  }

  private receive(sequence: number): void {
    const request = this.current;
    if (request === null || this.closed || Atomics.load(this.control, DONE) !== sequence) return;
    let error: string | null = null;
    for (;;) {
      const m = receiveMessageOnPort(this.port)?.message as ChannelMessage | undefined;
      if (!m) break;
      if (m.kind === 'output-buffer') this.output = m.buffer;
      else if (m.kind === 'error') error = m.message;
    }
    this.current = null;
    if (this.control[STATUS] === STATUS_OK) request.resolve(this.readOutputs());
    else request.reject(appError('MODEL_LOAD_FAILED', `Inference failed: ${error ?? 'unknown error'}`));
    const next = this.queue.shift();
    if (next) this.send(next);
  }

  private readOutputs(): ThreadedOutputs {
    const control = this.control;
    const outputs: ThreadedOutputs = {};
    const count = control[OUTPUT_COUNT]!;
    for (let o = 0; o < count; o++) {
      const slot = OUTPUT_BASE + o * OUTPUT_SLOT;
      const dims: number[] = [];
      for (let i = 0; i < control[slot + 1]!; i++) dims.push(control[slot + 2 + i]!);
      const offset = control[slot + 2 + MAX_OUTPUT_DIMS]!;
      const length = control[slot + 3 + MAX_OUTPUT_DIMS]!;
      const isFloat = control[slot] === TYPE_FLOAT32;
      // slice(): the caller owns its outputs; the shared buffer is reused by the next run.
      const data = isFloat
        ? new Float32Array(this.output, offset, length).slice()
        : new BigInt64Array(this.output, offset, length).slice();
      outputs[this.outputNames[o]!] = { data, dims, type: isFloat ? 'float32' : 'int64' };
    }
    return outputs;
  }

  private post(message: ChannelMessage): void {
    this.port.postMessage(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.control[CLOSING] = 1;
    Atomics.store(this.control, REQUEST, ++this.sequence);
    Atomics.notify(this.control, REQUEST);
    await exited;
    this.port.close();
  }

  private failAll(error: Error): void {
    if (!this.closed) this.failure = error;
    this.closed = true;
    const stopped = appError('MODEL_LOAD_FAILED', `Inference thread stopped: ${error.message}`);
    this.current?.reject(stopped);
    this.current = null;
    for (const r of this.queue.splice(0)) r.reject(stopped);
  }
}
