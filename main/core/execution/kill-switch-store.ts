import type { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';

/**
 * The kill switch's durable side, in ledger.db's settings table:
 * - `risk.kill-switch`: its state (engaged or not, why, from where); an engine starts with the
 *   kill switch engaged if it was engaged when the last one stopped.
 * - `risk.kill-switch.request`: what `vantage kill-switch` asks from outside the engine's process
 *   (the app, `vantage serve`, `vantage run` on the same data folder poll it); a request not yet
 *   answered is carried out at the next engine start.
 * - `risk.kill-switch.ack`: the engine's answer to the last request it carried out.
 * Only the engine appends to the audit chain (one writer keeps the hash chain linear): it audits
 * what it does, naming the CLI as the source.
 */

export const KILL_SWITCH_STATE_KEY = 'risk.kill-switch';
export const KILL_SWITCH_REQUEST_KEY = 'risk.kill-switch.request';
export const KILL_SWITCH_ACK_KEY = 'risk.kill-switch.ack';

export const killSwitchStateSchema = z.object({
  isEngaged: z.boolean(),
  reason: z.string(),
  source: z.string(),
  tsMs: z.number(),
});
export type KillSwitchState = z.infer<typeof killSwitchStateSchema>;

export const killSwitchRequestSchema = z.object({
  id: z.string().min(1).max(64),
  action: z.enum(['engage', 'release']),
  reason: z.string().min(1).max(500),
  isFlattening: z.boolean(),
  requestedMs: z.number(),
});
export type KillSwitchRequest = z.infer<typeof killSwitchRequestSchema>;

export const killSwitchAckSchema = z.object({
  id: z.string(),
  action: z.enum(['engage', 'release']),
  canceled: z.number().int(),
  flattenOrders: z.number().int(),
  handledMs: z.number(),
});
export type KillSwitchAck = z.infer<typeof killSwitchAckSchema>;

export function writeSetting(db: DatabaseSync, key: string, value: unknown, nowMs: number): void {
  db.prepare(
    'INSERT INTO settings (key, value, updated_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms',
  ).run(key, JSON.stringify(value), Math.floor(nowMs));
}

/** The setting parsed by the schema; null when absent or unreadable (never trusted half-parsed). */
export function readSetting<T>(db: DatabaseSync, key: string, schema: z.ZodType<T>): T | null {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
    { value: string } | undefined;
  if (!row) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(row.value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The request the engine has not carried out yet, if any. */
export function pendingKillSwitchRequest(db: DatabaseSync): KillSwitchRequest | null {
  const request = readSetting(db, KILL_SWITCH_REQUEST_KEY, killSwitchRequestSchema);
  if (!request) return null;
  const ack = readSetting(db, KILL_SWITCH_ACK_KEY, killSwitchAckSchema);
  return ack?.id === request.id ? null : request;
}
