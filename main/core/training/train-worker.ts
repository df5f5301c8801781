import { Worker } from 'node:worker_threads';
import { AppErrorException, type AppError } from '../../../shared/errors.ts';
import type { ModelCardDocument } from './card.ts';
import type { SeriesInput, TrainOptions, TrainProgress } from './train.ts';

/**
 * Runs `runTraining` on a worker thread so the engine's event loop stays free (for the UI's Model
 * manager). Progress arrives through `onProgress`; `cancel()` sets a shared flag the trainer checks
 * between trees, and the promise then rejects with a CANCELLED AppErrorException. Nothing is written
 * to disk here: save the result with saveModelFiles (save.ts).
 */

export interface TrainJobResult {
  onnx: Uint8Array;
  card: ModelCardDocument;
  /** The card as it is written to disk (serialiseCard). */
  cardText: string;
}

export interface TrainJob {
  result: Promise<TrainJobResult>;
  cancel(): void;
}

type Message =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; onnx: Uint8Array; card: ModelCardDocument; cardText: string }
  | { type: 'error'; error: AppError };

export function startTrainingJob(
  series: SeriesInput,
  options: TrainOptions,
  unseen: SeriesInput[] = [],
  onProgress?: (progress: TrainProgress) => void,
): TrainJob {
  const cancelFlag = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./train-thread.ts', import.meta.url), {
    workerData: { series, unseen, options, cancel: cancelFlag },
  });
  const result = new Promise<TrainJobResult>((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: Message) => {
      if (message.type === 'progress') onProgress?.(message.progress);
      else if (message.type === 'done') {
        settled = true;
        resolve({ onnx: message.onnx, card: message.card, cardText: message.cardText });
      } else {
        settled = true;
        reject(new AppErrorException(message.error.code, message.error.message, message.error.details));
      }
    });
    worker.on('error', (error) => {
      if (!settled)
        reject(new AppErrorException('TRAINING_FAILED', `training thread failed: ${error.message}`));
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled)
        reject(new AppErrorException('TRAINING_FAILED', `training thread exited with code ${code}`));
      settled = true;
    });
  }).finally(() => void worker.terminate());
  return {
    result,
    cancel() {
      Atomics.store(new Int32Array(cancelFlag), 0, 1);
    },
  };
}
