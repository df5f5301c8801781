import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualScheduler } from '../main/core/clock.ts';
import { openDatabase } from '../main/core/store/sqlite.ts';
import { ledgerMigrations } from '../main/core/store/ledger-migrations.ts';
import { AuditLedger } from '../main/core/audit/audit-ledger.ts';
import { SqliteOrderJournal } from '../main/core/execution/sqlite-journal.ts';
import type { Order } from '../shared/trading.ts';
import { atLeast, type Benchmark, type Figure } from './types.ts';

const INTENTS = 2000;
const APPENDS = 200_000;

/**
 * ledger.db (WAL, synchronous=FULL) throughput: durable order intents (order row + audit record,
 * one committed transaction each, as before every send); audit appends with group commit
 * (committed every 5 ms of engine time or 4,096 records); full-chain verification speed.
 */
export const benchmark: Benchmark = {
  name: 'trading-ledger',
  description:
    'Ledger: durable order intents/s (synchronous=FULL), audit appends/s with group commit (target >= 20,000/s), audit verify records/s.',
  run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-ledger-'));
    try {
      const ledger = openDatabase({
        name: 'ledger.db',
        path: join(dir, 'ledger.db'),
        migrations: ledgerMigrations,
        durability: 'full',
      });
      const scheduler = new ManualScheduler(Date.UTC(2026, 0, 5));
      const audit = new AuditLedger({ db: ledger.db, clock: scheduler });
      const journal = new SqliteOrderJournal(ledger.db, audit);
      const base: Order = {
        clientOrderId: '',
        venueOrderId: null,
        venue: 'paper',
        account: 'paper',
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'limit',
        quantity: 0.01,
        price: 64_000,
        stopPrice: null,
        trailing: null,
        tif: 'GTC',
        isPostOnly: false,
        isReduceOnly: false,
        strategyId: 'bench',
        reason: 'bench',
        state: 'pending-submit',
        filledQuantity: 0,
        averageFillPrice: 0,
        createdMs: 0,
        updatedMs: 0,
        message: null,
        isExternal: false,
      };
      const verdict = {
        isApproved: true,
        reason: null,
        checks: Array.from({ length: 21 }, (_, i) => ({
          check: `c${i}`,
          isPassed: true,
          value: i,
          limit: 100,
          unit: '%',
        })),
      };
      let t0 = performance.now();
      for (let i = 0; i < INTENTS; i++) {
        const order = { ...base, clientOrderId: `vt_bench_${journal.nextOrderSequence().toString(36)}` };
        journal.recordIntent(order, { intent: { ...order }, verdict });
      }
      const intentsPerSecond = INTENTS / ((performance.now() - t0) / 1000);

      t0 = performance.now();
      for (let i = 0; i < APPENDS; i++) {
        audit.append('signal', {
          strategyId: 'bench',
          symbol: 'BTC/USDT',
          prediction: 0.0123 + i * 1e-9,
          features: { rsi_14: 55.5, sma_20: 64_000.25 },
          seq: i,
        });
        if (i % 50 === 49) scheduler.advance(1); // engine time moves on: group commits fire every 5 ms
      }
      audit.flush();
      const appendsPerSecond = APPENDS / ((performance.now() - t0) / 1000);

      t0 = performance.now();
      const result = audit.verify();
      const verifySeconds = (performance.now() - t0) / 1000;
      ledger.close();
      return Promise.resolve([
        {
          name: 'durable order intents (synchronous=FULL)',
          value: intentsPerSecond,
          unit: 'intents/s',
          note: `${INTENTS} intents, each order row + audit record in its own committed transaction`,
        },
        {
          name: 'audit appends with group commit',
          value: appendsPerSecond,
          unit: 'records/s',
          ...atLeast(appendsPerSecond, 20_000, 'records/s'),
          note: `${APPENDS} records, synchronous=FULL`,
        },
        {
          name: 'audit verify',
          value: result.records / verifySeconds,
          unit: 'records/s',
          note: `${result.records} records, chain ${result.isOk ? 'OK' : 'BROKEN'}`,
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
