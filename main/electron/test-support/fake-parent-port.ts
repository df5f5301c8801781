// Loaded with `node --import` before engine-entry.ts in a test: plays Electron's process.parentPort
// and main. It hands the engine one port (as main does for the window), sends engine:status over
// it, prints the reply as JSON on stdout and exits.
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';

/** A worker_threads MessagePort dressed as Electron's MessagePortMain ({ data } events). */
function asMessagePortMain(port: MessagePort) {
  const events = new EventEmitter();
  port.on('close', () => events.emit('close'));
  return {
    postMessage: (message: unknown) => port.postMessage(message),
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
    off: (event: string, listener: (...args: unknown[]) => void) => events.off(event, listener),
    // Like MessagePortMain, messages wait in the port until start() (a worker_threads port starts
    // as soon as a 'message' listener exists, so that listener is attached only here).
    start: () => void port.on('message', (data: unknown) => events.emit('message', { data, ports: [] })),
    close: () => port.close(),
  };
}

const parentPort = new EventEmitter();
(process as unknown as { parentPort: EventEmitter }).parentPort = parentPort;

const { port1, port2 } = new MessageChannel();
port2.on('message', (message: { t: string; id?: number }) => {
  if (message.t === 'res' && message.id === 1) {
    process.stdout.write(`${JSON.stringify(message)}\n`);
    process.exit(0);
  }
});
// Like main: hand the port first, then the page sends a request at once (before the engine is ready).
setImmediate(() => {
  parentPort.emit('message', {
    data: { type: 'connect', origin: 'window' },
    ports: [asMessagePortMain(port1)],
  });
  port2.postMessage({ t: 'req', id: 1, channel: 'engine:status', payload: {} });
});
