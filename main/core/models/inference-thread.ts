import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import {
  CLOSING,
  DONE,
  INPUT_DIM_COUNT,
  INPUT_DIMS,
  INPUT_LENGTH,
  MAX_OUTPUT_DIMS,
  MAX_OUTPUTS,
  OUTPUT_BASE,
  OUTPUT_COUNT,
  OUTPUT_SLOT,
  REQUEST,
  STATUS,
  STATUS_FAILED,
  STATUS_OK,
  TYPE_FLOAT32,
  TYPE_INT64,
  SpinPolicy,
  bufferSize,
  type ChannelMessage,
} from './inference-channel.ts';

/**
 * Worker side of ThreadedInference (threaded-inference.ts): owns one ORT session. onnxruntime-node
 * 1.30's `session.run` is a synchronous native call that its JS wrapper merely defers with
 * setImmediate, so on the engine thread it would stall the event loop for the whole run; here it
 * stalls only this worker. Requests arrive through shared memory (inference-channel.ts): this
 * thread does nothing else, so it waits for them with Atomics.wait, spinning briefly first.
 */

export interface InferenceThreadInit {
  model: Uint8Array;
  provider: string;
  intraOpNumThreads: number;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  port: MessagePort;
}

/** The first message on parentPort: the session is ready (with its output names) or failed. */
export type InferenceThreadReady = { ok: true; outputNames: string[] } | { ok: false; message: string };

/**
 * How long the worker keeps polling for the next request before it sleeps in Atomics.wait. A
 * request that comes within the spin starts at once; one that comes later pays the futex wake-up
 * (tens to hundreds of µs on a virtual machine whose idle vCPU halted). Back-to-back runs (a bar
 * loop, Shapley batches, a caller awaiting run after run) stay on the fast path; an idle model
 * costs nothing after SPIN_MS.
 */
const SPIN_MS = 0.1;

const init = workerData as InferenceThreadInit;
const control = new Int32Array(init.control);
const port = init.port;
let input = new Float32Array(init.input);
let output = init.output;
let inputName = '';

function post(message: ChannelMessage): void {
  port.postMessage(message);
}

function drainPort(): void {
  for (;;) {
    const m = receiveMessageOnPort(port)?.message as ChannelMessage | undefined;
    if (!m) return;
    if (m.kind === 'input-buffer') input = new Float32Array(m.buffer);
    else if (m.kind === 'input-name') inputName = m.name;
  }
}

const spin = new SpinPolicy();

function waitForRequest(last: number): number {
  if (spin.shouldSpin()) {
    const until = performance.now() + SPIN_MS;
    do {
      const seq = Atomics.load(control, REQUEST);
      if (seq !== last) {
        spin.record(true);
        return seq;
      }
    } while (performance.now() < until);
    spin.record(false);
  }
  Atomics.wait(control, REQUEST, last);
  return Atomics.load(control, REQUEST);
}

/** Reuses the input tensor while the dims stay the same (batch-1 runs): no per-run allocation. */
let cachedTensor: ort.Tensor | null = null;
let cachedDims: number[] = [];
let cachedBuffer: Float32Array | null = null;

function inputTensor(): ort.Tensor {
  const count = control[INPUT_DIM_COUNT]!;
  let same = cachedTensor !== null && cachedBuffer === input && cachedDims.length === count;
  for (let i = 0; same && i < count; i++) same = cachedDims[i] === control[INPUT_DIMS + i];
  if (same) return cachedTensor!;
  const dims: number[] = [];
  for (let i = 0; i < count; i++) dims.push(control[INPUT_DIMS + i]!);
  cachedTensor = new ort.Tensor('float32', input.subarray(0, control[INPUT_LENGTH]!), dims);
  cachedDims = dims;
  cachedBuffer = input;
  return cachedTensor;
}

function writeOutputs(session: ort.InferenceSession, results: ort.InferenceSession.OnnxValueMapType): void {
  const names = session.outputNames;
  if (names.length > MAX_OUTPUTS)
    throw new Error(`the model has ${names.length} outputs; at most ${MAX_OUTPUTS} are supported`);
  let bytes = 0;
  for (const name of names) {
    const t = results[name];
    if (!t || (t.type !== 'float32' && t.type !== 'int64'))
      throw new Error(
        `output '${name}' is ${t ? `a ${t.type} tensor` : 'missing'}; only float32 and int64 tensors are supported`,
      );
    if (t.dims.length > MAX_OUTPUT_DIMS)
      throw new Error(
        `output '${name}' has ${t.dims.length} dimensions; at most ${MAX_OUTPUT_DIMS} are supported`,
      );
    bytes += ((t.data as Float32Array | BigInt64Array).byteLength + 7) & ~7;
  }
  if (bytes > output.byteLength) {
    output = new SharedArrayBuffer(bufferSize(bytes));
    post({ kind: 'output-buffer', buffer: output });
  }
  let offset = 0;
  control[OUTPUT_COUNT] = names.length;
  names.forEach((name, o) => {
    const t = results[name]!;
    const slot = OUTPUT_BASE + o * OUTPUT_SLOT;
    const data = t.data as Float32Array | BigInt64Array;
    control[slot] = t.type === 'float32' ? TYPE_FLOAT32 : TYPE_INT64;
    control[slot + 1] = t.dims.length;
    for (let i = 0; i < t.dims.length; i++) control[slot + 2 + i] = t.dims[i]!;
    control[slot + 2 + MAX_OUTPUT_DIMS] = offset;
    control[slot + 3 + MAX_OUTPUT_DIMS] = data.length;
    if (data instanceof Float32Array) new Float32Array(output, offset, data.length).set(data);
    else new BigInt64Array(output, offset, data.length).set(data);
    offset += (data.byteLength + 7) & ~7;
  });
}

async function serve(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(init.model, {
      executionProviders: [init.provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: init.intraOpNumThreads,
      interOpNumThreads: 1,
    });
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: (error as Error).message } satisfies InferenceThreadReady);
    return;
  }
  parentPort!.postMessage({ ok: true, outputNames: [...session.outputNames] } satisfies InferenceThreadReady);
  let last = 0;
  for (;;) {
    last = waitForRequest(last);
    drainPort();
    if (control[CLOSING] === 1) break;
    try {
      const results = await session.run({ [inputName]: inputTensor() });
      writeOutputs(session, results);
      control[STATUS] = STATUS_OK;
    } catch (error) {
      post({ kind: 'error', message: (error as Error).message });
      control[STATUS] = STATUS_FAILED;
    }
    Atomics.store(control, DONE, last);
    Atomics.notify(control, DONE);
  }
  await session.release();
  port.close();
}

void serve();
