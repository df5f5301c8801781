import type { z } from 'zod';
import type { RequestDef, StreamDef } from './define.ts';
import { engineRequests, engineStreams } from './engine.ts';
import { marketRequests, marketStreams } from './market.ts';
import { tradingRequests, tradingStreams } from './trading.ts';
import { auditRequests } from './audit.ts';
import { supervisorStreams } from './supervisor.ts';
import { historyRequests, historyStreams } from './history.ts';
import { backtestRequests, backtestStreams } from './backtest.ts';
import { modelsRequests, modelsStreams } from './models.ts';
import { trainingRequests, trainingStreams } from './training.ts';
import { strategiesRequests, strategiesStreams } from './strategies.ts';
import { venuesRequests, venuesStreams } from './venues.ts';

/**
 * The one IPC contract. Each domain keeps its channels in its own file and is merged here.
 * Request channel names are `domain:verb`; stream names are `domain:changed`-style.
 */
export const requests = {
  ...engineRequests,
  ...marketRequests,
  ...tradingRequests,
  ...auditRequests,
  ...historyRequests,
  ...backtestRequests,
  ...trainingRequests,
  ...modelsRequests,
  ...strategiesRequests,
  ...venuesRequests,
} satisfies Record<string, RequestDef>;

export const streams = {
  ...engineStreams,
  ...marketStreams,
  ...tradingStreams,
  ...supervisorStreams,
  ...historyStreams,
  ...backtestStreams,
  ...trainingStreams,
  ...modelsStreams,
  ...strategiesStreams,
  ...venuesStreams,
} satisfies Record<string, StreamDef>;

export type Requests = typeof requests;
export type Streams = typeof streams;
export type RequestChannel = keyof Requests & string;
export type StreamName = keyof Streams & string;
/** What a client sends (defaults may be omitted). */
export type RequestOf<C extends RequestChannel> = z.input<Requests[C]['request']>;
/** What a handler receives after validation (defaults filled in). */
export type ParsedRequestOf<C extends RequestChannel> = z.output<Requests[C]['request']>;
export type ResponseOf<C extends RequestChannel> = z.infer<Requests[C]['response']>;
export type StreamPayloadOf<S extends StreamName> = z.infer<Streams[S]['payload']>;
/** What a subscriber receives: the payload for 'latest' streams, an array of payloads for 'batch' ones. */
export type StreamMessageOf<S extends StreamName> = Streams[S]['mode'] extends 'batch'
  ? StreamPayloadOf<S>[]
  : StreamPayloadOf<S>;

export const requestChannels = Object.keys(requests) as RequestChannel[];
export const streamNames = Object.keys(streams) as StreamName[];

export function isRequestChannel(value: unknown): value is RequestChannel {
  return typeof value === 'string' && Object.hasOwn(requests, value);
}
export function isStreamName(value: unknown): value is StreamName {
  return typeof value === 'string' && Object.hasOwn(streams, value);
}

export { defineRequests, defineStreams } from './define.ts';
export type { RequestDef, StreamDef, StreamMode } from './define.ts';
