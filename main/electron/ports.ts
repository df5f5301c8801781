import type { PortLike } from '../../shared/protocol.ts';

/**
 * The part of Electron's MessagePortMain the engine host needs (main process and utility
 * process). Kept structural so the adapter is tested without Electron.
 */
export interface MessagePortMainLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

/**
 * Adapts a MessagePortMain to the contract's PortLike. MessagePortMain queues messages until
 * start() is called, so the adapter starts it once the first listener is attached (no message
 * is lost between hand-off and serving).
 */
export function adaptMessagePortMain(port: MessagePortMainLike): PortLike {
  let isStarted = false;
  let isClosed = false;
  const closeListeners = new Set<() => void>();
  const onPortClose = (): void => {
    if (isClosed) return;
    isClosed = true;
    for (const listener of [...closeListeners]) listener();
    closeListeners.clear();
  };
  port.on('close', onPortClose);

  return {
    postMessage(message) {
      if (isClosed) return;
      port.postMessage(message);
    },
    onMessage(listener) {
      const wrapped = (event: { data: unknown }): void => listener(event.data);
      port.on('message', wrapped);
      if (!isStarted) {
        isStarted = true;
        port.start();
      }
      return () => port.off('message', wrapped);
    },
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      port.close();
      // Electron emits 'close' on the other end; this end is closed now as far as we are concerned.
      onPortClose();
    },
  };
}
