import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { appErrorSchema } from '../errors.ts';

export const engineStateSchema = z.enum(['starting', 'ready', 'degraded', 'stopped']);
export type EngineState = z.infer<typeof engineStateSchema>;

export const engineModeSchema = z.enum(['live', 'paper', 'backtest']);

export const databaseStatusSchema = z.object({
  name: z.string(),
  path: z.string(),
  schemaVersion: z.number().int(),
  latestSchemaVersion: z.number().int(),
  journalMode: z.string(),
  synchronous: z.string(),
  integrity: z.enum(['ok', 'corrupt', 'unavailable']),
  message: z.string().optional(),
  sizeBytes: z.number().nonnegative(),
});
export type DatabaseStatus = z.infer<typeof databaseStatusSchema>;

export const executionProviderStatusSchema = z.object({
  name: z.string(),
  available: z.boolean(),
  reason: z.string(),
});

export const engineStatusSchema = z.object({
  version: z.string(),
  state: engineStateSchema,
  mode: engineModeSchema,
  uptimeMs: z.number().nonnegative(),
  startedAtMs: z.number(),
  dataDir: z.string(),
  databases: z.array(databaseStatusSchema),
  onnxRuntime: z.object({
    version: z.string(),
    activeProvider: z.string(),
    providers: z.array(executionProviderStatusSchema),
  }),
  nodeVersion: z.string(),
  platform: z.string(),
  arch: z.string(),
  pid: z.number().int(),
  tradingEnabled: z.boolean(),
  problems: z.array(appErrorSchema),
  restarts: z.number().int().nonnegative(),
});
export type EngineStatus = z.infer<typeof engineStatusSchema>;

const empty = z.object({}).strict();

export const engineRequests = defineRequests({
  'engine:status': {
    request: empty,
    response: engineStatusSchema,
    description: 'Engine version, state, data folder, databases, ONNX Runtime and Node versions.',
  },
  'engine:ping': {
    request: z.object({ nonce: z.number().int().safe() }).strict(),
    response: z.object({ nonce: z.number().int(), engineTimeMs: z.number() }),
    description: 'Round trip used for latency measurement and liveness.',
  },
});

export const engineStreams = defineStreams({
  'engine:changed': {
    payload: engineStatusSchema,
    mode: 'latest',
    description: 'The engine status whenever it changes (state, problems, restarts).',
  },
  'engine:heartbeat': {
    payload: z.object({ engineTimeMs: z.number(), seq: z.number().int() }),
    mode: 'latest',
    description: 'A tick every second while the engine runs; used by clients to detect a stalled engine.',
  },
});
