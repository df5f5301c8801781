import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenedDatabase } from '../../store/sqlite.ts';
import { ledgerMigrations } from '../../store/ledger-migrations.ts';

/** A fresh data folder with a migrated ledger.db (synchronous=FULL, as the app opens it). */
export function openTempLedger(prefix = 'vantage-ledger-'): {
  dir: string;
  ledger: OpenedDatabase;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ledger = openDatabase({
    name: 'ledger.db',
    path: join(dir, 'ledger.db'),
    migrations: ledgerMigrations,
    durability: 'full',
  });
  return {
    dir,
    ledger,
    cleanup: () => {
      try {
        ledger.close();
      } catch {
        // already closed by the test
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
