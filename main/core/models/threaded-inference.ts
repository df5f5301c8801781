import { Worker } from 'node:worker_threads';
import { appError } from '../../../shared/errors.ts';
import type { InferenceReply, InferenceRequest, InferenceThreadInit } from './inference-thread.ts';

/**
 * Runs an ONNX model on its own worker thread so inference never blocks the engine's event loop.
 *
 * Why: in onnxruntime-node 1.30 `InferenceSession.run` returns a promise, but its wrapper
 * (dist/backend.js) only defers a synchronous native run with setImmediate: the calling thread is
 * busy for the whole run (measured: a 1.4 s run let no 1 ms timer fire). Requests to one worker
 * are answered in order; the input buffer is copied (the caller keeps its array), outputs are
 * transferred back without a copy.
 */

export interface ThreadedOutputs {
  [name: string]: { data: Float32Array | BigInt64Array; dims: number[]; type: string };
}

export class ThreadedInference {
  readonly provider: string;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (o: ThreadedOutputs) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  private constructor(worker: Worker, provider: string) {
    this.worker = worker;
    this.provider = provider;
    worker.on('message', (reply: InferenceReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.outputs);
      else p.reject(appError('MODEL_LOAD_FAILED', `Inference failed: ${reply.message}`));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => this.failAll(new Error('the inference thread exited')));
  }

  /** Starts the worker and creates the session there; rejects with MODEL_LOAD_FAILED if ORT refuses. */
  static async create(model: Uint8Array, options: { provider?: string; intraOpNumThreads?: number } = {}): Promise<ThreadedInference> {
    const provider = options.provider ?? 'cpu';
    const init: InferenceThreadInit = { model, provider, intraOpNumThreads: options.intraOpNumThreads ?? 1 };
    const worker = new Worker(new URL('./inference-thread.ts', import.meta.url), { workerData: init });
    const runner = new ThreadedInference(worker, provider);
    await new Promise<void>((resolve, reject) => {
      runner.pending.set(0, {
        resolve: () => resolve(),
        reject: (e) => {
          void worker.terminate();
          reject(appError('MODEL_LOAD_FAILED', e.message.replace(/^Inference failed: /, 'Could not create the session: ')));
        },
      });
    });
    return runner;
  }

  /** One run of `input` (row-major, shape `dims`) on the worker; all outputs. */
  run(inputName: string, input: Float32Array, dims: number[]): Promise<ThreadedOutputs> {
    if (this.closed) return Promise.reject(appError('MODEL_LOAD_FAILED', 'The model session is closed.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: InferenceRequest = { id, input: input.slice(), dims, inputName };
      this.worker.postMessage(req, [req.input.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await exited;
  }

  private failAll(error: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(appError('MODEL_LOAD_FAILED', `Inference thread stopped: ${error.message}`));
    this.pending.clear();
  }
}
