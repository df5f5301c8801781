import { createPortClient, type ContractClient } from '../shared/client.ts';
import type { Reply } from '../shared/errors.ts';
import type { PortLike } from '../shared/protocol.ts';

type Listener = (message: unknown) => void;

interface QueuedRequest {
  channel: string;
  payload: unknown;
  resolve: (reply: Reply<unknown>) => void;
}

/**
 * The contract client the preload exposes, over whichever engine port main handed over last.
 * Requests made before the first port arrives are queued and sent when it does. When main hands
 * a new port (engine restarted, page reloaded), requests in flight on the old one fail with
 * IPC_TRANSPORT (their outcome is unknown; never re-sent) and every stream is re-subscribed.
 */
export class EnginePortConnection implements ContractClient {
  private client: (ContractClient & { close(): void }) | null = null;
  private readonly queue: QueuedRequest[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly upstream = new Map<string, () => void>();

  /** Switches to a new port from main. */
  attach(port: PortLike): void {
    const previous = this.client;
    this.client = null;
    previous?.close();
    this.upstream.clear();
    const client = createPortClient(port);
    this.client = client;
    for (const stream of this.listeners.keys()) this.subscribeUpstream(stream);
    for (const queued of this.queue.splice(0)) {
      void client.request(queued.channel as never, queued.payload as never).then(queued.resolve);
    }
  }

  get isAttached(): boolean {
    return this.client !== null;
  }

  request: ContractClient['request'] = (channel, payload) => {
    if (this.client) return this.client.request(channel, payload);
    return new Promise((resolve) => {
      this.queue.push({ channel, payload, resolve: resolve as (reply: Reply<unknown>) => void });
    });
  };

  subscribe: ContractClient['subscribe'] = (stream, listener) => {
    let set = this.listeners.get(stream);
    if (!set) {
      set = new Set();
      this.listeners.set(stream, set);
      this.subscribeUpstream(stream);
    }
    const l = listener as Listener;
    set.add(l);
    return () => {
      const current = this.listeners.get(stream);
      if (!current?.delete(l) || current.size > 0) return;
      this.listeners.delete(stream);
      this.upstream.get(stream)?.();
      this.upstream.delete(stream);
    };
  };

  private subscribeUpstream(stream: string): void {
    if (!this.client) return;
    const off = this.client.subscribe(stream as never, (message: unknown) => {
      const set = this.listeners.get(stream);
      if (set) for (const l of [...set]) l(message);
    });
    this.upstream.set(stream, off);
  }
}
