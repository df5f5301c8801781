import { z } from 'zod';
import { TIMEFRAMES } from '../market.ts';

/** Field schemas every contract domain shares, so a venue or symbol means the same on every channel. */

/** A venue name as stored series and feeds use it: demo, replay, binance, a name given at import. */
export const venueField = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');

/** A ccxt exchange id (what can be connected to or fetched from). */
export const ccxtVenueField = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9]+$/, 'a ccxt exchange id: lower-case letters and digits (binance, kraken, coinbase)');

/** A symbol: unified (BTC/USDT), a stock ticker (ORCL) or a venue's own id. */
export const symbolField = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_./:-]+$/, 'letters, digits, _ . / : - only');

export const timeframeField = z.enum(TIMEFRAMES);

/** Epoch ms within years 1970..2200. */
export const epochMsField = z.number().int().min(0).max(7_258_118_400_000);
