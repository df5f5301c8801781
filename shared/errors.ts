import { z } from 'zod';

/**
 * The closed set of error codes that can cross the IPC boundary.
 * Add a code here (and nowhere else) when a new kind of expected failure appears.
 */
export const ERROR_CODES = [
  'IPC_INVALID_PAYLOAD',
  'IPC_UNKNOWN_CHANNEL',
  'IPC_INVALID_RESPONSE',
  'IPC_TRANSPORT',
  'ENGINE_NOT_READY',
  'ENGINE_UNAVAILABLE',
  'INTERNAL',
  'NOT_FOUND',
  'CONFLICT',
  'CANCELLED',
  'BAD_INPUT',
  'STORE_CORRUPT',
  'STORE_MIGRATION_FAILED',
  'DATA_INVALID',
  'DATA_IMPORT_FAILED',
  'VENUE_ERROR',
  'VENUE_RATE_LIMITED',
  'VENUE_UNREACHABLE',
  'MODEL_INVALID',
  'MODEL_LOAD_FAILED',
  'INFERENCE_FAILED',
  'FEATURE_INVALID',
  'STRATEGY_INVALID',
  'RULE_PARSE_ERROR',
  'BACKTEST_FAILED',
  'TRAINING_FAILED',
  'RISK_REJECTED',
  'ORDER_INVALID',
  'ORDER_STATE_INVALID',
  'TRADING_HALTED',
  'AUDIT_CHAIN_BROKEN',
] as const;

export const errorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const appErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  details: z.unknown().optional(),
});
export type AppError = z.infer<typeof appErrorSchema>;

/** Expected failures are values; this class lets core code raise one and the host turn it into a reply. */
export class AppErrorException extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppErrorException';
    this.code = code;
    this.details = details;
  }
  toAppError(): AppError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function appError(code: ErrorCode, message: string, details?: unknown): AppErrorException {
  return new AppErrorException(code, message, details);
}

export function isAppErrorException(value: unknown): value is AppErrorException {
  return value instanceof AppErrorException;
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: AppError };
