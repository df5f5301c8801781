import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { ccxtVenueField } from './fields.ts';
import { FEED_STATES } from '../market.ts';

/**
 * Live venues (ccxt) the workstation streams public market data from, beside the embedded demo
 * venue: connect, disconnect, list. Connections are remembered in the data folder and restored at
 * the next start. Public data needs no API keys.
 */

const venueId = ccxtVenueField;
const symbol = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._:-]+$/, 'a unified symbol BASE/QUOTE, e.g. BTC/USDT');

export const VENUE_TRANSPORTS = ['auto', 'websocket', 'rest'] as const;

export const connectedVenueSchema = z.object({
  venue: z.string(),
  kind: z.enum(['demo', 'replay', 'ccxt']),
  symbols: z.array(z.string()),
  /** Transport in use for trades (ccxt venues), null for local feeds. */
  transport: z.enum(['websocket', 'rest']).nullable(),
  /** Worst state across the venue's subscriptions. */
  state: z.enum(FEED_STATES),
  connectedMs: z.number().nullable(),
  /** Why the last connect or restore failed, null when connected. */
  error: z.string().nullable(),
});
export type ConnectedVenue = z.infer<typeof connectedVenueSchema>;

export const venuesRequests = defineRequests({
  'venues:list': {
    request: z.object({}).strict(),
    response: z.object({ venues: z.array(connectedVenueSchema), available: z.array(z.string()) }),
    description:
      'Connected venues (demo first) with their symbols and state, and every ccxt venue id that can be connected.',
  },
  'venues:connect': {
    request: z
      .object({
        venue: venueId,
        symbols: z.array(symbol).min(1).max(20),
        transport: z.enum(VENUE_TRANSPORTS).default('auto'),
      })
      .strict(),
    response: connectedVenueSchema,
    description:
      "Connects a ccxt venue's public market data for the symbols (checked against the venue's markets); remembered for the next start.",
  },
  'venues:disconnect': {
    request: z.object({ venue: venueId }).strict(),
    response: z.object({ venue: z.string(), isDisconnected: z.boolean() }),
    description: 'Disconnects a ccxt venue (the demo venue stays: paper trading fills against it).',
  },
});

export const venuesStreams = defineStreams({
  'venues:changed': {
    payload: z.object({ venues: z.array(connectedVenueSchema) }),
    mode: 'latest',
    description: 'Connected venues changed (connect, disconnect, restore failure).',
  },
});
