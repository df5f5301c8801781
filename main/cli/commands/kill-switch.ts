import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, globalOptions, printJson } from '../context.ts';
import { openDatabase, type OpenedDatabase } from '../../core/store/sqlite.ts';
import { ledgerMigrations } from '../../core/store/ledger-migrations.ts';
import {
  KILL_SWITCH_ACK_KEY,
  KILL_SWITCH_REQUEST_KEY,
  KILL_SWITCH_STATE_KEY,
  killSwitchAckSchema,
  killSwitchStateSchema,
  pendingKillSwitchRequest,
  readSetting,
  writeSetting,
  type KillSwitchAck,
  type KillSwitchRequest,
} from '../../core/execution/kill-switch-store.ts';

/** ledger.db of the data folder (created with its schema if nothing was recorded there yet). */
function openLedger(dataDir: string): OpenedDatabase {
  mkdirSync(dataDir, { recursive: true });
  return openDatabase({
    name: 'ledger.db',
    path: join(dataDir, 'ledger.db'),
    migrations: ledgerMigrations,
    durability: 'full',
  });
}

interface KillSwitchOptions {
  reason: string;
  flatten?: boolean;
  wait: string;
}

/**
 * Records the request in ledger.db and waits for a running engine (the app, `vantage serve`,
 * `vantage run` on this data folder) to carry it out and answer; with no engine running, the
 * request holds and the next engine start carries it out before anything can trade.
 */
async function request(
  dataDir: string,
  json: boolean,
  action: 'engage' | 'release',
  opts: KillSwitchOptions,
): Promise<void> {
  const waitS = Number(opts.wait);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 600)
    throw new CliError(`--wait must be 0..600 seconds, not "${opts.wait}".`, 2);
  if (opts.reason.trim().length === 0) throw new CliError('--reason must say why.', 2);
  const ledger = openLedger(dataDir);
  try {
    const req: KillSwitchRequest = {
      id: randomUUID(),
      action,
      reason: opts.reason.trim().slice(0, 500),
      isFlattening: action === 'engage' && opts.flatten === true,
      requestedMs: Date.now(),
    };
    writeSetting(ledger.db, KILL_SWITCH_REQUEST_KEY, req, req.requestedMs);
    let ack: KillSwitchAck | null = null;
    const deadline = Date.now() + waitS * 1000;
    while (Date.now() < deadline) {
      await sleep(100);
      const seen = readSetting(ledger.db, KILL_SWITCH_ACK_KEY, killSwitchAckSchema);
      if (seen?.id === req.id) {
        ack = seen;
        break;
      }
    }
    const result = {
      action,
      reason: req.reason,
      isFlattening: req.isFlattening,
      isCarriedOut: ack !== null,
      ack,
    };
    if (json) printJson(result);
    else if (ack && action === 'engage')
      process.stdout.write(
        `Kill switch ENGAGED by the running engine: ${ack.canceled} working order(s) cancelled, strategies stopped` +
          `${req.isFlattening ? `, ${ack.flattenOrders} flatten order(s) sent` : ''}.\n`,
      );
    else if (ack) process.stdout.write('Kill switch released by the running engine: trading may resume.\n');
    else
      process.stdout.write(
        `No running engine answered within ${waitS} s. The ${action} request is recorded in ledger.db; ` +
          'the next engine start on this data folder carries it out before anything can trade.\n',
      );
  } finally {
    ledger.close();
  }
}

export function register(program: Command): void {
  const ks = program
    .command('kill-switch')
    .description(
      'Engage or release the kill switch of the engine on this data folder (cancels working orders, stops strategies, optionally flattens); audited by the engine.',
    );
  ks.command('engage')
    .description(
      'Halt trading: cancel every working order and stop every strategy; --flatten also closes positions.',
    )
    .requiredOption('--reason <text>', 'why (recorded in the audit ledger)')
    .option('--flatten', 'also close every position with reduce-only market orders')
    .option('--wait <seconds>', 'how long to wait for a running engine to answer', '5')
    .action(async (opts: KillSwitchOptions, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      await request(dataDir, json, 'engage', opts);
    });
  ks.command('release')
    .description('Release the kill switch (strategies stay stopped until started again).')
    .requiredOption('--reason <text>', 'why (recorded in the audit ledger)')
    .option('--wait <seconds>', 'how long to wait for a running engine to answer', '5')
    .action(async (opts: KillSwitchOptions, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      await request(dataDir, json, 'release', opts);
    });
  ks.command('status')
    .description(
      'Whether the kill switch is engaged (as the engine last recorded it) and any request not yet carried out.',
    )
    .action((_opts: unknown, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const ledger = openLedger(dataDir);
      try {
        const state = readSetting(ledger.db, KILL_SWITCH_STATE_KEY, killSwitchStateSchema);
        const pending = pendingKillSwitchRequest(ledger.db);
        if (json) printJson({ state, pending });
        else {
          process.stdout.write(
            state?.isEngaged
              ? `Kill switch ENGAGED (${state.source}): ${state.reason}\n`
              : 'Kill switch not engaged.\n',
          );
          if (pending)
            process.stdout.write(
              `Pending request (not carried out yet): ${pending.action}, "${pending.reason}"${pending.isFlattening ? ', flatten' : ''}.\n`,
            );
        }
      } finally {
        ledger.close();
      }
    });
}
