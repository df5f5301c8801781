/**
 * The shared-memory layout between ThreadedInference (engine thread) and inference-thread.ts (its
 * worker). One request at a time: the engine writes the input rows into the shared input buffer and
 * the dims into the control words, bumps REQUEST and notifies; the worker runs the session, writes
 * every output into the shared output buffer and its shape into the control words, sets DONE to the
 * same sequence number and notifies. No structured clone, no per-run message, no copy but the two
 * into and out of shared memory. Rare things (a bigger buffer, a new input name, an error text,
 * closing) go as messages on a MessagePort that the other side reads synchronously
 * (receiveMessageOnPort) right after the signal.
 */

export const REQUEST = 0;
export const DONE = 1;
/** Status of the run DONE points at: OK, or FAILED (the message is on the port). */
export const STATUS = 2;
export const INPUT_LENGTH = 3;
export const INPUT_DIM_COUNT = 4;
export const INPUT_DIMS = 5;
export const MAX_INPUT_DIMS = 8;
/** Set with the last REQUEST: the worker releases the session and exits. */
export const CLOSING = 13;
export const OUTPUT_COUNT = 16;
/** Per output: type, dim count, dims (MAX_OUTPUT_DIMS), byte offset, element count. */
export const OUTPUT_BASE = 17;
export const MAX_OUTPUT_DIMS = 6;
export const OUTPUT_SLOT = MAX_OUTPUT_DIMS + 4;
export const MAX_OUTPUTS = 10;
export const CONTROL_WORDS = OUTPUT_BASE + MAX_OUTPUTS * OUTPUT_SLOT;

export const STATUS_OK = 0;
export const STATUS_FAILED = 1;

export const TYPE_FLOAT32 = 1;
export const TYPE_INT64 = 2;

/** Messages on the side port. */
export type ChannelMessage =
  | { kind: 'input-buffer'; buffer: SharedArrayBuffer }
  | { kind: 'output-buffer'; buffer: SharedArrayBuffer }
  | { kind: 'input-name'; name: string }
  | { kind: 'output-names'; names: string[] }
  | { kind: 'error'; message: string };

/** Smallest power of two ≥ bytes (at least 4 KiB), so buffers grow rarely. */
export function bufferSize(bytes: number): number {
  let size = 4096;
  while (size < bytes) size *= 2;
  return size;
}

/**
 * Adaptive spinning, as adaptive mutexes do: poll while polls pay off; after one that did not,
 * skip polling for a number of runs that doubles with each further miss (up to 1024) and resets on
 * a hit. Used on both sides: the engine polling for a reply (threaded-inference.ts) and the worker polling
 * for the next request (inference-thread.ts).
 */
export class SpinPolicy {
  private skip = 0;
  private backoff = 0;

  shouldSpin(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  record(isHit: boolean): void {
    if (isHit) {
      this.backoff = 0;
      return;
    }
    this.backoff = this.backoff === 0 ? 1 : Math.min(1024, this.backoff * 2);
    this.skip = this.backoff;
  }
}
