import { DatabaseSync } from 'node:sqlite';
import { existsSync, statSync } from 'node:fs';
import { appError } from '../../../shared/errors.ts';
import type { DatabaseStatus } from '../../../shared/contract/engine.ts';

export interface Migration {
  /** 1, 2, 3, ... with no gaps; never renumber a released migration. */
  version: number;
  name: string;
  /** Runs inside a transaction together with the version bump. */
  up(db: DatabaseSync): void;
}

export type Durability = 'normal' | 'full';

export interface OpenOptions {
  name: string;
  path: string;
  migrations: readonly Migration[];
  /** 'full' for the ledger (acknowledged writes survive power loss), 'normal' for market data. */
  durability: Durability;
  isReadOnly?: boolean;
}

export interface OpenedDatabase {
  name: string;
  path: string;
  db: DatabaseSync;
  schemaVersion: number;
  latestSchemaVersion: number;
  status(): DatabaseStatus;
  close(): void;
}

/**
 * Opens a SQLite database: integrity check first (a corrupt file is reported, never recreated),
 * then WAL + the requested durability, then numbered migrations, each in its own transaction.
 * Throws AppErrorException STORE_CORRUPT / STORE_MIGRATION_FAILED with a message a user can act on.
 */
export function openDatabase(options: OpenOptions): OpenedDatabase {
  const { name, path, migrations } = options;
  validateMigrations(name, migrations);
  const existed = existsSync(path) && statSync(path).size > 0;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: options.isReadOnly ?? false });
  } catch (err) {
    throw appError('STORE_CORRUPT', `Cannot open ${name} at ${path}: ${errMessage(err)}.`, { path });
  }
  try {
    if (existed) {
      const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
      const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
      if (problems.length > 0) {
        throw appError(
          'STORE_CORRUPT',
          `${name} at ${path} failed its integrity check (${problems.slice(0, 3).join('; ')}). ` +
            'Trading is disabled. Restore the file from a backup or move it aside; Vantage never recreates it silently.',
          { path, problems: problems.slice(0, 20) },
        );
      }
    }
    if (!options.isReadOnly) {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      if (options.durability === 'full' && process.platform === 'darwin') db.exec('PRAGMA fullfsync = ON');
    }
    db.exec('PRAGMA foreign_keys = ON');
    db.exec('PRAGMA busy_timeout = 5000');
    const schemaVersion = options.isReadOnly ? userVersion(db) : migrate(db, name, migrations);
    const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
    return {
      name,
      path,
      db,
      schemaVersion,
      latestSchemaVersion: latest,
      status: () => describe(db, name, path, latest),
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    if (err instanceof Error && err.name === 'AppErrorException') throw err;
    const message = errMessage(err);
    if (/malformed|not a database|corrupt/i.test(message)) {
      throw appError(
        'STORE_CORRUPT',
        `${name} at ${path} is not a readable SQLite database (${message}). Trading is disabled. ` +
          'Restore the file from a backup or move it aside; Vantage never recreates it silently.',
        { path },
      );
    }
    throw err;
  }
}

function validateMigrations(name: string, migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`${name}: migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
}

function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  return row.user_version;
}

function migrate(db: DatabaseSync, name: string, migrations: readonly Migration[]): number {
  let current = userVersion(db);
  const latest = migrations.length;
  if (current > latest) {
    throw appError(
      'STORE_MIGRATION_FAILED',
      `${name} has schema version ${current}, newer than this Vantage understands (${latest}). Update Vantage.`,
    );
  }
  for (const migration of migrations.slice(current)) {
    db.exec('BEGIN IMMEDIATE');
    try {
      migration.up(db);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec('COMMIT');
      current = migration.version;
    } catch (err) {
      db.exec('ROLLBACK');
      throw appError(
        'STORE_MIGRATION_FAILED',
        `${name}: migration ${migration.version} (${migration.name}) failed: ${errMessage(err)}. Nothing was changed by it.`,
      );
    }
  }
  return current;
}

function describe(db: DatabaseSync, name: string, path: string, latest: number): DatabaseStatus {
  const journal = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
  const sync = db.prepare('PRAGMA synchronous').get() as { synchronous: number };
  const syncNames = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  const sizeBytes = existsSync(path) ? statSync(path).size : 0;
  return {
    name,
    path,
    schemaVersion: userVersion(db),
    latestSchemaVersion: latest,
    journalMode: journal.journal_mode.toUpperCase(),
    synchronous: syncNames[sync.synchronous] ?? String(sync.synchronous),
    integrity: 'ok',
    sizeBytes,
  };
}

/** Runs fn in a transaction (BEGIN IMMEDIATE); rolls back on any error. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
