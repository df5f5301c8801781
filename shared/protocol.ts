import { z } from 'zod';
import type { Reply } from './errors.ts';

/**
 * Wire messages between a client (renderer/preload/CLI) and the engine host.
 * The same shapes travel over an Electron MessagePort, a worker port or a WebSocket (as JSON).
 */
export const clientMessageSchema = z.discriminatedUnion('t', [
  z
    .object({
      t: z.literal('req'),
      id: z.number().int().nonnegative().safe(),
      channel: z.string().max(128),
      payload: z.unknown(),
    })
    .strict(),
  z.object({ t: z.literal('sub'), stream: z.string().max(128) }).strict(),
  z.object({ t: z.literal('unsub'), stream: z.string().max(128) }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export type HostMessage =
  | { t: 'res'; id: number; reply: Reply<unknown> }
  | { t: 'evt'; stream: string; payload: unknown }
  | { t: 'err'; reply: Reply<unknown> };

/** A bidirectional message port, whatever carries it. */
export interface PortLike {
  postMessage(message: unknown): void;
  /** Registers a listener; returns a function that removes it. */
  onMessage(listener: (message: unknown) => void): () => void;
  onClose?(listener: () => void): () => void;
  close?(): void;
}

/** Two connected in-process ports (used by tests and the in-process host). Delivery is async like a real port. */
export function createPortPair(): [PortLike, PortLike] {
  const listeners: [Set<(m: unknown) => void>, Set<(m: unknown) => void>] = [new Set(), new Set()];
  const closeListeners: [Set<() => void>, Set<() => void>] = [new Set(), new Set()];
  let isClosed = false;
  const make = (self: 0 | 1): PortLike => {
    const other = self === 0 ? 1 : 0;
    return {
      postMessage(message) {
        if (isClosed) return;
        const copy = structuredClone(message);
        queueMicrotask(() => {
          for (const l of listeners[other]) l(copy);
        });
      },
      onMessage(listener) {
        listeners[self].add(listener);
        return () => listeners[self].delete(listener);
      },
      onClose(listener) {
        closeListeners[self].add(listener);
        return () => closeListeners[self].delete(listener);
      },
      close() {
        if (isClosed) return;
        isClosed = true;
        for (const set of closeListeners) for (const l of set) l();
      },
    };
  };
  return [make(0), make(1)];
}
