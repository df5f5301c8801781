import { buildApi } from '../shared/client.ts';
import { isStreamName } from '../shared/contract/index.ts';
import {
  SHELL_IPC_CHANNELS,
  supervisorStatusSchema,
  type SupervisorStatus,
} from '../shared/contract/supervisor.ts';
import type { PortLike } from '../shared/protocol.ts';
import { EnginePortConnection } from './connection.ts';

/** A DOM MessagePort as the preload receives it in ipcRenderer's event.ports. */
export interface DomMessagePortLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'close', listener: () => void): void;
  start(): void;
  close(): void;
}

/** The part of ipcRenderer the preload uses. It stays here: the page never gets it. */
export interface PreloadIpc {
  on(
    channel: string,
    listener: (event: { ports: readonly DomMessagePortLike[] }, ...args: unknown[]) => void,
  ): unknown;
  send(channel: string): void;
}

export function adaptDomPort(port: DomMessagePortLike): PortLike {
  let isClosed = false;
  const closeListeners = new Set<() => void>();
  const onClose = (): void => {
    if (isClosed) return;
    isClosed = true;
    for (const l of [...closeListeners]) l();
  };
  // Chromium fires 'close' on a MessagePort when the other end goes away (engine process died).
  port.addEventListener('close', onClose);
  return {
    postMessage(message) {
      if (!isClosed) port.postMessage(message);
    },
    onMessage(listener) {
      const wrapped = (event: { data: unknown }): void => listener(event.data);
      port.addEventListener('message', wrapped);
      port.start();
      return () => port.removeEventListener('message', wrapped);
    },
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      port.close();
      onClose();
    },
  };
}

type Callback = (message: unknown) => void;
type ExposedFunction = (...args: never[]) => unknown;
export type ExposedApi = Record<string, Record<string, ExposedFunction> | ExposedFunction | string>;

/**
 * Builds the object the preload exposes as `window.vantage`: one function per contract request
 * channel (`vantage.engine.status({})`), `on(stream, callback)` returning an unsubscribe (contract
 * streams from the engine, plus `supervisor:changed` from main), and `transport: 'electron'`.
 * Only plain objects, functions and strings: no ipcRenderer, no event objects, no process/env.
 */
export function createExposedApi(ipc: PreloadIpc): ExposedApi {
  const connection = new EnginePortConnection();
  const api = buildApi(connection) as unknown as Record<string, Record<string, ExposedFunction>>;

  let supervisorStatus: SupervisorStatus | null = null;
  const supervisorListeners = new Set<Callback>();

  ipc.on(SHELL_IPC_CHANNELS.enginePort, (event) => {
    const port = event.ports[0];
    if (port) connection.attach(adaptDomPort(port));
  });
  ipc.on(SHELL_IPC_CHANNELS.supervisor, (_event, payload) => {
    const parsed = supervisorStatusSchema.safeParse(payload);
    if (!parsed.success) return;
    supervisorStatus = parsed.data;
    for (const l of [...supervisorListeners]) l(structuredClone(parsed.data));
  });

  const exposed: ExposedApi = {};
  for (const [domain, group] of Object.entries(api)) {
    if (typeof group !== 'object' || group === null) continue;
    const functions: Record<string, ExposedFunction> = {};
    for (const [verb, fn] of Object.entries(group)) {
      const request = fn as (payload: unknown) => Promise<unknown>;
      // One argument only: nothing else the page passes reaches the port.
      functions[verb] = (payload: unknown) => request(payload);
    }
    exposed[domain] = functions;
  }
  exposed.on = (stream: unknown, callback: unknown): (() => void) => {
    if (typeof callback !== 'function')
      throw new TypeError('vantage.on(stream, callback): callback must be a function.');
    const deliver = (message: unknown): void => void (callback as Callback)(message);
    if (stream === 'supervisor:changed') {
      supervisorListeners.add(deliver);
      const latest = supervisorStatus;
      if (latest) queueMicrotask(() => supervisorListeners.has(deliver) && deliver(structuredClone(latest)));
      return () => void supervisorListeners.delete(deliver);
    }
    if (!isStreamName(stream))
      throw new TypeError(`vantage.on: unknown stream ${JSON.stringify(String(stream).slice(0, 128))}.`);
    return connection.subscribe(stream, deliver);
  };
  exposed.transport = 'electron';

  // Ask main for the engine port now that the page (and this preload) is loaded; main checks that
  // the request comes from the app's own window before handing it.
  ipc.send(SHELL_IPC_CHANNELS.enginePortRequest);
  return exposed;
}
