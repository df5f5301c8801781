import {
  requestChannels,
  streamNames,
  type RequestChannel,
  type RequestOf,
  type ResponseOf,
  type StreamMessageOf,
  type StreamName,
} from './contract/index.ts';
import type { PortLike, HostMessage } from './protocol.ts';
import type { Reply } from './errors.ts';

/** The typed contract client: the same shape whether it runs over preload, a WebSocket or in-process. */
export interface ContractClient {
  request<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<Reply<ResponseOf<C>>>;
  subscribe<S extends StreamName>(stream: S, listener: (message: StreamMessageOf<S>) => void): () => void;
}

type Split<S extends string> = S extends `${infer D}:${infer V}` ? [D, V] : never;
type DomainOf<C extends string> = Split<C>[0];
type VerbOf<C extends string> = Split<C>[1];

type RequestApi = {
  [D in DomainOf<RequestChannel>]: {
    [C in RequestChannel as DomainOf<C> extends D ? VerbOf<C> : never]: (
      payload: RequestOf<C>,
    ) => Promise<Reply<ResponseOf<C>>>;
  };
};

/** `api.engine.status({})`, `api.on('engine:changed', cb)`. One named function per request channel. */
export type VantageApi = RequestApi & {
  on<S extends StreamName>(stream: S, listener: (message: StreamMessageOf<S>) => void): () => void;
};

/** Builds the named API from the contract's channel list over any client. */
export function buildApi(client: ContractClient): VantageApi {
  const api: Record<string, Record<string, unknown>> = Object.create(null) as Record<
    string,
    Record<string, unknown>
  >;
  for (const channel of requestChannels) {
    const [domain, verb] = channel.split(':') as [string, string];
    const group = (api[domain] ??= Object.create(null) as Record<string, unknown>);
    group[verb] = (payload: unknown) => client.request(channel, payload as never);
  }
  const result = api as unknown as VantageApi;
  (result as { on: VantageApi['on'] }).on = (stream, listener) => client.subscribe(stream, listener);
  return result;
}

/**
 * A client over a PortLike. Used by the preload (Electron MessagePort), the browser (WebSocket
 * wrapped as a port) and tests. Pending requests fail with IPC_TRANSPORT if the port closes.
 */
export function createPortClient(port: PortLike): ContractClient & { close(): void } {
  let nextId = 1;
  const pending = new Map<number, (reply: Reply<unknown>) => void>();
  const listeners = new Map<string, Set<(message: unknown) => void>>();

  port.onMessage((raw) => {
    const message = raw as HostMessage;
    if (message?.t === 'res') {
      const resolve = pending.get(message.id);
      if (resolve) {
        pending.delete(message.id);
        resolve(message.reply);
      }
    } else if (message?.t === 'evt') {
      const set = listeners.get(message.stream);
      if (set) for (const l of [...set]) l(message.payload);
    }
  });
  const failAll = (): void => {
    for (const resolve of pending.values())
      resolve({
        ok: false,
        error: { code: 'IPC_TRANSPORT', message: 'The connection to the engine closed.' },
      });
    pending.clear();
  };
  port.onClose?.(failAll);

  return {
    request(channel, payload) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve as (reply: Reply<unknown>) => void);
        try {
          port.postMessage({ t: 'req', id, channel, payload });
        } catch (err) {
          pending.delete(id);
          resolve({
            ok: false,
            error: {
              code: 'IPC_TRANSPORT',
              message: `Could not send: ${err instanceof Error ? err.message : String(err)}`,
            },
          });
        }
      });
    },
    subscribe(stream, listener) {
      let set = listeners.get(stream);
      if (!set) {
        set = new Set();
        listeners.set(stream, set);
        port.postMessage({ t: 'sub', stream });
      }
      const l = listener as (message: unknown) => void;
      set.add(l);
      return () => {
        const current = listeners.get(stream);
        if (!current) return;
        current.delete(l);
        if (current.size === 0) {
          listeners.delete(stream);
          port.postMessage({ t: 'unsub', stream });
        }
      };
    },
    close() {
      failAll();
      port.close?.();
    },
  };
}

export { requestChannels, streamNames };
