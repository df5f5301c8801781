import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/**
 * Worker side of ThreadedInference (threaded-inference.ts): owns one ORT session. onnxruntime-node
 * 1.30's `session.run` is a synchronous native call that its JS wrapper merely defers with
 * setImmediate, so on the engine thread it would stall the event loop for the whole run; here it
 * stalls only this worker.
 */

export interface InferenceThreadInit {
  model: Uint8Array;
  provider: string;
  intraOpNumThreads: number;
}

export type InferenceRequest = { id: number; input: Float32Array; dims: number[]; inputName: string };
export type InferenceReply =
  | { id: number; ok: true; outputs: Record<string, { data: Float32Array | BigInt64Array; dims: number[]; type: string }> }
  | { id: number; ok: false; message: string };

const init = workerData as InferenceThreadInit;
const port = parentPort!;

const ready = ort.InferenceSession.create(init.model, {
  executionProviders: [init.provider],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: init.intraOpNumThreads,
  interOpNumThreads: 1,
});

ready.then(
  () => port.postMessage({ id: 0, ok: true, outputs: {} } satisfies InferenceReply),
  (error: unknown) => port.postMessage({ id: 0, ok: false, message: (error as Error).message } satisfies InferenceReply),
);

port.on('message', (req: InferenceRequest | 'close') => {
  void (async () => {
    const session = await ready;
    if (req === 'close') {
      await session.release();
      port.close();
      return;
    }
    try {
      const out = await session.run({ [req.inputName]: new ort.Tensor('float32', req.input, req.dims) });
      const outputs: Record<string, { data: Float32Array | BigInt64Array; dims: number[]; type: string }> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(out)) {
        const data = (t.data as Float32Array | BigInt64Array).slice();
        outputs[name] = { data, dims: [...t.dims], type: t.type };
        transfer.push(data.buffer as ArrayBuffer);
      }
      port.postMessage({ id: req.id, ok: true, outputs } satisfies InferenceReply, transfer);
    } catch (error) {
      port.postMessage({ id: req.id, ok: false, message: (error as Error).message } satisfies InferenceReply);
    }
  })();
});
