import type { z } from 'zod';

export interface RequestDef<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  request: Req;
  response: Res;
  /** One line for docs and the generated API. */
  description: string;
}

/**
 * 'latest': a state stream; the host sends at most one message per 16 ms with the latest payload.
 * 'batch': an event stream; events within a 16 ms window are delivered together, none dropped
 * (the message payload is then an array of events).
 */
export type StreamMode = 'latest' | 'batch';

export interface StreamDef<P extends z.ZodType = z.ZodType> {
  payload: P;
  mode: StreamMode;
  description: string;
}

export function defineRequests<T extends Record<string, RequestDef>>(defs: T): T {
  for (const name of Object.keys(defs)) {
    if (!/^[a-z][a-zA-Z]*:[a-z][a-zA-Z]*$/.test(name)) throw new Error(`bad request channel name ${name}`);
  }
  return defs;
}

export function defineStreams<T extends Record<string, StreamDef>>(defs: T): T {
  for (const name of Object.keys(defs)) {
    if (!/^[a-z][a-zA-Z]*:[a-z][a-zA-Z]*$/.test(name)) throw new Error(`bad stream name ${name}`);
  }
  return defs;
}
