import { z } from 'zod';
import { defineRequests } from './define.ts';

export const auditRecordSchema = z.object({
  seq: z.number().int(),
  tsMs: z.number(),
  type: z.string(),
  payload: z.unknown(),
  hash: z.string(),
});

export const auditVerifySchema = z.object({
  isOk: z.boolean(),
  records: z.number().int().nonnegative(),
  headSeq: z.number().int().nonnegative(),
  headHash: z.string(),
  isCheckpointChecked: z.boolean(),
  problem: z.object({ kind: z.string(), seq: z.number().int(), message: z.string() }).nullable(),
  durationMs: z.number().nonnegative(),
});

export const auditRequests = defineRequests({
  'audit:query': {
    request: z
      .object({
        fromSeq: z.number().int().positive().optional(),
        toSeq: z.number().int().positive().optional(),
        type: z.string().min(1).max(64).optional(),
        fromMs: z.number().int().nonnegative().optional(),
        toMs: z.number().int().nonnegative().optional(),
        /** Text the payload must contain (e.g. a symbol or client order id). */
        contains: z.string().min(1).max(100).optional(),
        limit: z.number().int().positive().max(2000).default(200),
      })
      .strict(),
    response: z.object({ records: z.array(auditRecordSchema), headSeq: z.number().int().nonnegative() }),
    description: 'Audit records by seq, type, time or text, oldest first.',
  },
  'audit:verify': {
    request: z.object({}).strict(),
    response: auditVerifySchema,
    description: 'Verifies the whole audit chain (and the latest signed checkpoint).',
  },
});
