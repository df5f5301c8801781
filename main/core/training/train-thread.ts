import { parentPort, workerData } from 'node:worker_threads';
import { AppErrorException } from '../../../shared/errors.ts';
import { serialiseCard } from './card-format.ts';
import { runTraining, type SeriesInput, type TrainOptions } from './train.ts';

/** Worker-thread entry for startTrainingJob (train-worker.ts): runs one training, posts progress, honours the cancel flag. */

interface JobData {
  series: SeriesInput;
  unseen: SeriesInput[];
  options: TrainOptions;
  cancel: SharedArrayBuffer;
}

const data = workerData as JobData;
const cancel = new Int32Array(data.cancel);
try {
  const result = runTraining(data.series, data.options, data.unseen, {
    onProgress: (progress) => parentPort?.postMessage({ type: 'progress', progress }),
    isCancelled: () => Atomics.load(cancel, 0) === 1,
  });
  parentPort?.postMessage({
    type: 'done',
    onnx: result.onnx,
    card: result.card,
    cardText: serialiseCard(result.card),
  });
} catch (error) {
  const appErr =
    error instanceof AppErrorException
      ? error.toAppError()
      : { code: 'TRAINING_FAILED', message: (error as Error).message };
  parentPort?.postMessage({ type: 'error', error: appErr });
}
