/**
 * Child process for the crash test (crash.test.ts). `run <dir> <step> <occurrence>` trades a fixed
 * script against a durable paper venue and SIGKILLs itself right after the given step happened
 * for the given time; `recover <dir>` restarts on the same files, reconciles, and prints what the
 * ledger and the venue hold as JSON.
 */
import { join } from 'node:path';
import { ManualScheduler } from '../../clock.ts';
import { openDatabase } from '../../store/sqlite.ts';
import { ledgerMigrations } from '../../store/ledger-migrations.ts';
import { AuditLedger } from '../../audit/audit-ledger.ts';
import { Portfolio } from '../../portfolio/portfolio.ts';
import { OrderManager } from '../order-manager.ts';
import { PaperBroker } from '../paper-broker.ts';
import { SqliteOrderJournal } from '../sqlite-journal.ts';
import { SqlitePaperStore, paperVenueMigrations } from '../paper-store.ts';
import { StaticBooks, BTC_RULES } from './static-books.ts';
import type { OrderIntent } from '../../../../shared/trading.ts';

const SYMBOL = 'BTC/USDT';
const [mode, dir, step = 'none', occurrenceText = '1'] = process.argv.slice(2);
const occurrence = Number(occurrenceText);
let hits = 0;

function maybeDie(at: string): void {
  if (at !== step) return;
  hits++;
  if (hits === occurrence) process.kill(process.pid, 'SIGKILL');
}

async function drive<T>(scheduler: ManualScheduler, promise: Promise<T>): Promise<T> {
  let isDone = false;
  void promise.then(
    () => (isDone = true),
    () => (isDone = true),
  );
  while (!isDone) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    scheduler.advance(1);
  }
  return promise;
}

async function main(): Promise<void> {
  if (!dir) throw new Error('usage: crash-child run|recover <dir> [step] [occurrence]');
  // Time continues after a restart: start each process later than any earlier one could have reached.
  const scheduler = new ManualScheduler(1_700_000_000_000 + (mode === 'recover' ? 3_600_000 : 0));
  const ledgerDb = openDatabase({
    name: 'ledger.db',
    path: join(dir, 'ledger.db'),
    migrations: ledgerMigrations,
    durability: 'full',
  });
  const venueDb = openDatabase({
    name: 'paper-venue.db',
    path: join(dir, 'paper-venue.db'),
    migrations: paperVenueMigrations,
    durability: 'full',
  });
  const books = new StaticBooks();
  books.set(
    SYMBOL,
    [
      [99.99, 1],
      [99.5, 2],
    ],
    [
      [100.01, 0.5],
      [100.5, 1],
    ],
    100,
  );
  const audit = new AuditLedger({ db: ledgerDb.db, clock: scheduler });
  const journal = new SqliteOrderJournal(ledgerDb.db, audit);
  const store = new SqlitePaperStore(venueDb.db);
  // Hooks right after each durable step of an order's life.
  const journalHooks = {
    recordIntent: journal.recordIntent.bind(journal),
    recordTransition: journal.recordTransition.bind(journal),
    recordFill: journal.recordFill.bind(journal),
  };
  journal.recordIntent = (order, record) => {
    journalHooks.recordIntent(order, record);
    maybeDie('after-intent');
  };
  journal.recordTransition = (order, from, record) => {
    journalHooks.recordTransition(order, from, record);
    maybeDie(`after-${order.state}-recorded`);
  };
  journal.recordFill = (fill, order) => {
    const isNew = journalHooks.recordFill(fill, order);
    maybeDie('after-fill-recorded');
    return isNew;
  };
  const storeHooks = { saveOrder: store.saveOrder.bind(store), saveFill: store.saveFill.bind(store) };
  store.saveOrder = (order) => {
    storeHooks.saveOrder(order);
    maybeDie(`after-venue-${order.state}`);
  };
  store.saveFill = (fill, order) => {
    storeHooks.saveFill(fill, order);
    maybeDie('after-venue-fill');
  };
  const portfolio = new Portfolio({ startingCash: 100_000, currency: 'USDT' });
  for (const f of journal.loadFills()) portfolio.applyFill(f);
  const broker = new PaperBroker({
    scheduler,
    books,
    rules: [BTC_RULES],
    store,
    latency: { delayMs: () => 2 },
  });
  const orders = new OrderManager({
    broker,
    journal,
    portfolio,
    clock: scheduler,
    account: 'paper',
    submitTimeoutMs: 1000,
  });

  if (mode === 'run') {
    const intent = (i: Partial<OrderIntent>): OrderIntent => ({
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 0.2,
      tif: 'GTC',
      reason: 'crash-test',
      ...i,
    });
    await drive(scheduler, orders.reconcile());
    const resting = await drive(
      scheduler,
      orders.submit(intent({ type: 'limit', price: 99, quantity: 0.3 })),
    );
    await drive(scheduler, orders.submit(intent({})));
    books.set(SYMBOL, [[98.5, 1]], [[98.9, 1]], 98.9); // the market trades through the resting order
    const toCancel = await drive(
      scheduler,
      orders.submit(intent({ type: 'limit', price: 98, quantity: 0.1 })),
    );
    if (toCancel.order) await drive(scheduler, orders.cancel(toCancel.order.clientOrderId));
    audit.flush();
    process.stdout.write(JSON.stringify({ done: true, resting: resting.order?.clientOrderId }));
    return;
  }

  const summary = await drive(scheduler, orders.reconcile());
  audit.flush();
  const ledgerOrders = ledgerDb.db
    .prepare('SELECT client_order_id AS id, state, body FROM orders ORDER BY rowid')
    .all() as { id: string; state: string; body: string }[];
  const ledgerFills = ledgerDb.db.prepare('SELECT fill_id AS id FROM fills').all() as { id: string }[];
  const venueOrders = store
    .loadOrders()
    .map((o) => ({ id: o.order.clientOrderId, state: o.state, filled: o.filledQuantity }));
  const venueFills = store.loadFills().map((f) => ({ id: f.fillId, side: f.side, quantity: f.quantity }));
  process.stdout.write(
    JSON.stringify({
      summary,
      ledgerOrders: ledgerOrders.map((o) => ({
        id: o.id,
        state: o.state,
        filled: (JSON.parse(o.body) as { filledQuantity: number }).filledQuantity,
        isExternal: (JSON.parse(o.body) as { isExternal: boolean }).isExternal,
      })),
      ledgerFills: ledgerFills.map((f) => f.id),
      venueOrders,
      venueFills,
      netQuantity: portfolio.netQuantity(SYMBOL),
      audit: audit.verify(),
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
