import type { z } from 'zod';
import {
  isRequestChannel,
  isStreamName,
  requests,
  streams,
  type RequestChannel,
  type ParsedRequestOf,
  type ResponseOf,
  type StreamName,
  type StreamPayloadOf,
  type StreamDef,
} from '../../shared/contract/index.ts';
import { clientMessageSchema, type HostMessage, type PortLike } from '../../shared/protocol.ts';
import { AppErrorException, type AppError, type Reply } from '../../shared/errors.ts';
import type { Scheduler, TimerHandle } from './clock.ts';

export interface RequestContext {
  /** Which host carried the request (for logs and audit). */
  origin: string;
}

export type Handler<C extends RequestChannel> = (
  request: ParsedRequestOf<C>,
  context: RequestContext,
) => ResponseOf<C> | Promise<ResponseOf<C>>;

export type Handlers = { [C in RequestChannel]?: Handler<C> };

export interface HostLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Minimum gap between two messages of one stream on one connection (one frame at 60 Hz). */
export const STREAM_COALESCE_MS = 16;

function formatIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/**
 * Dispatches validated requests to handlers. Shared by every host (port, WebSocket, in-process):
 * validation happens here, so no transport can skip it. Never throws: every outcome is a Reply.
 */
export class Dispatcher {
  private readonly handlers: Handlers;
  private readonly logger: HostLogger | undefined;
  private readonly validateResponses: boolean;

  constructor(options: { handlers: Handlers; logger?: HostLogger; validateResponses?: boolean }) {
    this.handlers = options.handlers;
    this.logger = options.logger;
    this.validateResponses = options.validateResponses ?? true;
  }

  async dispatch(channel: unknown, payload: unknown, context: RequestContext): Promise<Reply<unknown>> {
    try {
      if (!isRequestChannel(channel)) {
        return fail({
          code: 'IPC_UNKNOWN_CHANNEL',
          message: `Unknown request channel ${JSON.stringify(String(channel).slice(0, 128))}.`,
        });
      }
      const def = requests[channel];
      const parsed = def.request.safeParse(payload);
      if (!parsed.success) {
        return fail({
          code: 'IPC_INVALID_PAYLOAD',
          message: `Invalid request for ${channel}: ${formatIssues(parsed.error)
            .map((i) => `${i.path}: ${i.message}`)
            .join('; ')}`,
          details: { channel, issues: formatIssues(parsed.error) },
        });
      }
      const handler = this.handlers[channel] as Handler<typeof channel> | undefined;
      if (!handler) {
        return fail({ code: 'ENGINE_NOT_READY', message: `No handler is registered for ${channel}.` });
      }
      const value: unknown = await handler(parsed.data as never, context);
      if (this.validateResponses) {
        const checked = def.response.safeParse(value);
        if (!checked.success) {
          this.logger?.error(
            { channel, issues: formatIssues(checked.error) },
            'handler returned an invalid response',
          );
          return fail({
            code: 'IPC_INVALID_RESPONSE',
            message: `The engine produced an invalid response for ${channel}.`,
            details: { channel, issues: formatIssues(checked.error) },
          });
        }
        return { ok: true, value: checked.data };
      }
      return { ok: true, value };
    } catch (err) {
      if (err instanceof AppErrorException) return { ok: false, error: err.toAppError() };
      this.logger?.error({ channel: String(channel), err }, 'handler failed');
      return fail({
        code: 'INTERNAL',
        message: `Internal error in ${String(channel)}: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
}

function fail(error: AppError): Reply<never> {
  return { ok: false, error };
}

type Listener = (stream: StreamName, payload: unknown) => void;

/**
 * The engine's stream publisher. Domain code publishes; every connected host relays
 * to its subscribers with its own coalescing.
 */
export class StreamBus {
  private readonly listeners = new Set<Listener>();
  private readonly lastLatest = new Map<StreamName, unknown>();

  publish<S extends StreamName>(stream: S, payload: StreamPayloadOf<S>): void {
    if ((streams[stream] as StreamDef).mode === 'latest') this.lastLatest.set(stream, payload);
    for (const l of this.listeners) l(stream, payload);
  }

  /** The last payload published on a 'latest' stream (sent to new subscribers at once). */
  latest(stream: StreamName): unknown {
    return this.lastLatest.get(stream);
  }

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Per-connection stream coalescer: at most one message per stream per STREAM_COALESCE_MS.
 * 'latest' streams deliver the newest payload; 'batch' streams deliver every event, grouped.
 */
export class StreamCoalescer {
  private readonly lastSentMs = new Map<StreamName, number>();
  private readonly pendingLatest = new Map<StreamName, unknown>();
  private readonly pendingBatch = new Map<StreamName, unknown[]>();
  private readonly timers = new Map<StreamName, TimerHandle>();
  private readonly scheduler: Scheduler;
  private readonly send: (stream: StreamName, payload: unknown) => void;
  private readonly intervalMs: number;

  constructor(
    scheduler: Scheduler,
    send: (stream: StreamName, payload: unknown) => void,
    intervalMs = STREAM_COALESCE_MS,
  ) {
    this.scheduler = scheduler;
    this.send = send;
    this.intervalMs = intervalMs;
  }

  push(stream: StreamName, payload: unknown): void {
    const isBatch = (streams[stream] as StreamDef).mode === 'batch';
    if (isBatch) {
      const list = this.pendingBatch.get(stream) ?? [];
      list.push(payload);
      this.pendingBatch.set(stream, list);
    } else {
      this.pendingLatest.set(stream, payload);
    }
    if (this.timers.has(stream)) return;
    const now = this.scheduler.nowMs();
    const last = this.lastSentMs.get(stream);
    const waitMs = last === undefined ? 0 : last + this.intervalMs - now;
    if (waitMs <= 0) {
      this.flush(stream);
    } else {
      this.timers.set(
        stream,
        this.scheduler.schedule(waitMs, () => {
          this.timers.delete(stream);
          this.flush(stream);
        }),
      );
    }
  }

  private flush(stream: StreamName): void {
    let payload: unknown;
    if (this.pendingBatch.has(stream)) {
      payload = this.pendingBatch.get(stream);
      this.pendingBatch.delete(stream);
    } else if (this.pendingLatest.has(stream)) {
      payload = this.pendingLatest.get(stream);
      this.pendingLatest.delete(stream);
    } else {
      return;
    }
    this.lastSentMs.set(stream, this.scheduler.nowMs());
    this.send(stream, payload);
  }

  /** Drops pending data for a stream (on unsubscribe). */
  drop(stream: StreamName): void {
    this.timers.get(stream)?.cancel();
    this.timers.delete(stream);
    this.pendingBatch.delete(stream);
    this.pendingLatest.delete(stream);
  }

  close(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.pendingBatch.clear();
    this.pendingLatest.clear();
  }
}

export interface ServeOptions {
  dispatcher: Dispatcher;
  bus: StreamBus;
  scheduler: Scheduler;
  origin: string;
  logger?: HostLogger;
  /** Max serialized request size accepted from this port (bytes of JSON); default 4 MiB. */
  maxMessageBytes?: number;
}

/**
 * Serves the contract over one message port. Returns a function that detaches it.
 * Every request is validated (by the dispatcher) before a handler runs; nothing throws across the port.
 */
export function servePort(port: PortLike, options: ServeOptions): () => void {
  const subscribed = new Set<StreamName>();
  let isOpen = true;
  const post = (message: HostMessage): void => {
    if (!isOpen) return;
    try {
      port.postMessage(message);
    } catch (err) {
      options.logger?.warn({ err }, 'postMessage failed');
    }
  };
  const coalescer = new StreamCoalescer(options.scheduler, (stream, payload) =>
    post({ t: 'evt', stream, payload }),
  );

  const offBus = options.bus.listen((stream, payload) => {
    if (subscribed.has(stream)) coalescer.push(stream, payload);
  });

  const offMessage = port.onMessage((raw) => {
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = readId(raw);
      const reply: Reply<never> = {
        ok: false,
        error: {
          code: 'IPC_INVALID_PAYLOAD',
          message:
            'Malformed message: expected {t:"req",id,channel,payload}, {t:"sub",stream} or {t:"unsub",stream}.',
          details: { issues: formatIssues(parsed.error) },
        },
      };
      post(id === null ? { t: 'err', reply } : { t: 'res', id, reply });
      return;
    }
    const message = parsed.data;
    if (message.t === 'req') {
      void options.dispatcher
        .dispatch(message.channel, message.payload, { origin: options.origin })
        .then((reply) => post({ t: 'res', id: message.id, reply }));
      return;
    }
    if (!isStreamName(message.stream)) {
      post({
        t: 'err',
        reply: {
          ok: false,
          error: {
            code: 'IPC_UNKNOWN_CHANNEL',
            message: `Unknown stream ${JSON.stringify(message.stream)}.`,
          },
        },
      });
      return;
    }
    if (message.t === 'sub') {
      subscribed.add(message.stream);
      const latest = options.bus.latest(message.stream);
      if (latest !== undefined) coalescer.push(message.stream, latest);
    } else {
      subscribed.delete(message.stream);
      coalescer.drop(message.stream);
    }
  });

  const detach = (): void => {
    if (!isOpen) return;
    isOpen = false;
    offBus();
    offMessage();
    coalescer.close();
  };
  port.onClose?.(detach);
  return detach;
}

function readId(raw: unknown): number | null {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const id = (raw as { id?: unknown }).id;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  }
  return null;
}
