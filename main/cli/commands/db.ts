import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { globalOptions, printJson } from '../context.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { ledgerMigrations } from '../../core/store/ledger-migrations.ts';
import { paperVenueMigrations } from '../../core/execution/paper-store.ts';

export interface DbCheckResult {
  name: string;
  path: string;
  exists: boolean;
  integrity: 'ok' | 'corrupt' | 'missing';
  problems: string[];
  schemaVersion: number | null;
  latestSchemaVersion: number;
}

/** Read-only check of one database file: integrity_check and schema version. Never migrates or repairs. */
export function checkDatabase(name: string, path: string, latest: number): DbCheckResult {
  if (!existsSync(path)) {
    return {
      name,
      path,
      exists: false,
      integrity: 'missing',
      problems: [],
      schemaVersion: null,
      latestSchemaVersion: latest,
    };
  }
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    return {
      name,
      path,
      exists: true,
      integrity: problems.length ? 'corrupt' : 'ok',
      problems,
      schemaVersion: version,
      latestSchemaVersion: latest,
    };
  } catch (err) {
    return {
      name,
      path,
      exists: true,
      integrity: 'corrupt',
      problems: [err instanceof Error ? err.message : String(err)],
      schemaVersion: null,
      latestSchemaVersion: latest,
    };
  } finally {
    db?.close();
  }
}

export function register(program: Command): void {
  const db = program.command('db').description('Database maintenance.');
  db.command('check')
    .description(
      'Check market.db, ledger.db and paper-venue.db (integrity and schema version) without changing them. Exit 1 if any is corrupt.',
    )
    .action((_opts: unknown, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const results = [
        checkDatabase('market.db', join(dataDir, 'market.db'), marketMigrations.length),
        checkDatabase('ledger.db', join(dataDir, 'ledger.db'), ledgerMigrations.length),
        // The simulated venue's own state (resting paper orders, balances): the paper account reconciles against it.
        checkDatabase('paper-venue.db', join(dataDir, 'paper-venue.db'), paperVenueMigrations.length),
      ];
      if (json) printJson({ dataDir, databases: results });
      else {
        for (const r of results) {
          const schema = r.schemaVersion === null ? '-' : `${r.schemaVersion}/${r.latestSchemaVersion}`;
          process.stdout.write(`${r.name.padEnd(14)} ${r.integrity.padEnd(8)} schema ${schema}  ${r.path}\n`);
          for (const p of r.problems.slice(0, 10)) process.stdout.write(`  ${p}\n`);
          if (r.integrity === 'corrupt') {
            process.stdout.write(
              '  Trading stays disabled while this file is corrupt. Restore it from a backup or move it aside.\n',
            );
          }
        }
      }
      if (results.some((r) => r.integrity === 'corrupt')) process.exitCode = 1;
    });
}
