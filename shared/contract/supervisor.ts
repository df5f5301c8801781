import { z } from 'zod';
import { defineStreams } from './define.ts';

/**
 * The Electron shell's view of the engine process. Published by main (not by the engine, which
 * may be the thing that crashed) and delivered by the preload; `vantage serve` never sends it.
 */
export const supervisorStatusSchema = z.object({
  /** running: the engine process is up; restarting: it crashed and a restart is scheduled; failed: gave up. */
  state: z.enum(['starting', 'running', 'restarting', 'failed', 'stopped']),
  /** Restarts since the app started. */
  restarts: z.number().int().nonnegative(),
  /** Crashes in a row without a healthy period in between. */
  consecutiveCrashes: z.number().int().nonnegative(),
  /** Delay before the scheduled restart (state 'restarting'). */
  nextRestartInMs: z.number().nonnegative().nullable(),
  lastExitCode: z.number().int().nullable(),
  /** What the user should read: what happened, the numbers, what they can do. */
  message: z.string(),
});
export type SupervisorStatus = z.infer<typeof supervisorStatusSchema>;

export const supervisorStreams = defineStreams({
  'supervisor:changed': {
    payload: supervisorStatusSchema,
    mode: 'latest',
    description: 'Engine process supervision in the desktop app (crash, restart backoff, gave up).',
  },
});

/**
 * Electron IPC channels between main and the preload (not part of the page's API; the page never
 * sees ipcRenderer). Here so main and the preload cannot disagree on a name.
 */
export const SHELL_IPC_CHANNELS = {
  /** main -> preload: one end of a MessageChannelMain to the engine (in event.ports). */
  enginePort: 'vantage:engine-port',
  /** preload -> main: the page has loaded and wants an engine port. */
  enginePortRequest: 'vantage:engine-port-request',
  /** main -> preload: a SupervisorStatus. */
  supervisor: 'vantage:supervisor',
} as const;
