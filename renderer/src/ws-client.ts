import type { ContractClient } from '../../shared/client.ts';
import type { HostMessage } from '../../shared/protocol.ts';
import type { Reply } from '../../shared/errors.ts';
import { decodeHostMessage } from '../../shared/binary-message.ts';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * The browser transport for `vantage serve`: the contract over a WebSocket, with reconnect
 * (exponential backoff) and re-subscription of every stream after a reconnect.
 * Requests in flight when the socket drops fail with IPC_TRANSPORT (never silently re-sent).
 */
export class WebSocketClient implements ContractClient {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply<unknown>) => void>();
  private readonly listeners = new Map<string, Set<(message: unknown) => void>>();
  private readonly queue: string[] = [];
  private attempt = 0;
  private isClosedByUser = false;
  private readonly url: string;
  private readonly onState: (state: ConnectionState) => void;

  constructor(url: string, onState: (state: ConnectionState) => void) {
    this.url = url;
    this.onState = onState;
    this.connect();
  }

  private connect(): void {
    this.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const socket = new WebSocket(this.url);
    // Replies with typed arrays (candle columns) arrive as binary frames, viewed in place.
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.onState('open');
      for (const stream of this.listeners.keys()) socket.send(JSON.stringify({ t: 'sub', stream }));
      for (const message of this.queue.splice(0)) socket.send(message);
    };
    socket.onmessage = (event) => {
      let message: HostMessage;
      try {
        message = (
          event.data instanceof ArrayBuffer ? decodeHostMessage(event.data) : JSON.parse(String(event.data))
        ) as HostMessage;
      } catch {
        return;
      }
      if (message.t === 'res') {
        const resolve = this.pending.get(message.id);
        if (resolve) {
          this.pending.delete(message.id);
          resolve(message.reply);
        }
      } else if (message.t === 'evt') {
        const set = this.listeners.get(message.stream);
        if (set) for (const l of [...set]) l(message.payload);
      }
    };
    socket.onclose = () => {
      for (const resolve of this.pending.values()) {
        resolve({
          ok: false,
          error: { code: 'IPC_TRANSPORT', message: 'Lost the connection to the engine.' },
        });
      }
      this.pending.clear();
      if (this.isClosedByUser) {
        this.onState('closed');
        return;
      }
      this.attempt += 1;
      this.onState('reconnecting');
      const delayMs = Math.min(10_000, 250 * 2 ** Math.min(this.attempt, 6));
      setTimeout(() => this.connect(), delayMs);
    };
  }

  private send(message: object): void {
    const text = JSON.stringify(message);
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
    else this.queue.push(text);
  }

  request: ContractClient['request'] = (channel, payload) => {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (reply: Reply<unknown>) => void);
      this.send({ t: 'req', id, channel, payload });
    });
  };

  subscribe: ContractClient['subscribe'] = (stream, listener) => {
    let set = this.listeners.get(stream);
    if (!set) {
      set = new Set();
      this.listeners.set(stream, set);
      this.send({ t: 'sub', stream });
    }
    const l = listener as (message: unknown) => void;
    set.add(l);
    return () => {
      const current = this.listeners.get(stream);
      if (!current) return;
      current.delete(l);
      if (current.size === 0) {
        this.listeners.delete(stream);
        this.send({ t: 'unsub', stream });
      }
    };
  };

  close(): void {
    this.isClosedByUser = true;
    this.socket?.close();
  }
}
