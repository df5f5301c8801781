import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openDatabase, type Migration } from './sqlite.ts';
import { AppErrorException } from '../../../shared/errors.ts';
import { Engine } from '../engine.ts';
import { ManualScheduler } from '../clock.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const migrations: Migration[] = [
  { version: 1, name: 'a', up: (db) => db.exec('CREATE TABLE a (x INTEGER) STRICT') },
  { version: 2, name: 'b', up: (db) => db.exec('CREATE TABLE b (y TEXT) STRICT') },
];

function catchAppError(fn: () => unknown): AppErrorException {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppErrorException) return err;
    throw err;
  }
  throw new Error('expected an AppErrorException');
}

describe('store', () => {
  it('runs numbered migrations in order and only once', () => {
    const path = join(dir, 'm.db');
    const first = openDatabase({
      name: 'm.db',
      path,
      migrations: migrations.slice(0, 1),
      durability: 'normal',
    });
    expect(first.schemaVersion).toBe(1);
    first.close();
    const second = openDatabase({ name: 'm.db', path, migrations, durability: 'normal' });
    expect(second.schemaVersion).toBe(2);
    const tables = second.db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all();
    expect(tables.map((t) => t.name)).toEqual(['a', 'b']);
    second.close();
    const third = openDatabase({ name: 'm.db', path, migrations, durability: 'normal' });
    expect(third.schemaVersion).toBe(2);
    third.close();
  });

  it('uses WAL with NORMAL sync for market data and FULL for the ledger', () => {
    const market = openDatabase({
      name: 'market.db',
      path: join(dir, 'market.db'),
      migrations,
      durability: 'normal',
    });
    const ledger = openDatabase({
      name: 'ledger.db',
      path: join(dir, 'ledger.db'),
      migrations,
      durability: 'full',
    });
    expect(market.status()).toMatchObject({
      journalMode: 'WAL',
      synchronous: 'NORMAL',
      integrity: 'ok',
      schemaVersion: 2,
    });
    expect(ledger.status()).toMatchObject({ journalMode: 'WAL', synchronous: 'FULL' });
    market.close();
    ledger.close();
  });

  it('rolls back a failing migration and keeps the previous version', () => {
    const path = join(dir, 'm.db');
    const broken: Migration[] = [
      migrations[0]!,
      {
        version: 2,
        name: 'half-done',
        up: (db) => {
          db.exec('CREATE TABLE half (z INTEGER) STRICT');
          db.exec('THIS IS NOT SQL');
        },
      },
    ];
    const err = catchAppError(() =>
      openDatabase({ name: 'm.db', path, migrations: broken, durability: 'normal' }),
    );
    expect(err.code).toBe('STORE_MIGRATION_FAILED');
    expect(err.message).toContain('migration 2 (half-done)');
    const db = new DatabaseSync(path);
    expect((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name='half'").all()).toEqual([]);
    db.close();
  });

  it('refuses a database from a newer version of the app', () => {
    const path = join(dir, 'm.db');
    openDatabase({ name: 'm.db', path, migrations, durability: 'normal' }).close();
    const err = catchAppError(() =>
      openDatabase({ name: 'm.db', path, migrations: migrations.slice(0, 1), durability: 'normal' }),
    );
    expect(err.code).toBe('STORE_MIGRATION_FAILED');
    expect(err.message).toMatch(/newer than this Vantage understands/);
  });

  it('reports a file that is not a database and never recreates it', () => {
    const path = join(dir, 'ledger.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const before = readFileSync(path);
    const err = catchAppError(() =>
      openDatabase({ name: 'ledger.db', path, migrations, durability: 'full' }),
    );
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toMatch(/ledger\.db .*not a readable SQLite database.*Trading is disabled/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('reports a database whose pages fail the integrity check', () => {
    const path = join(dir, 'market.db');
    const made = openDatabase({ name: 'market.db', path, migrations, durability: 'normal' });
    made.db.exec('CREATE TABLE big (k INTEGER PRIMARY KEY, v TEXT)');
    made.db.exec('CREATE INDEX big_v ON big(v)');
    const insert = made.db.prepare('INSERT INTO big (v) VALUES (?)');
    made.db.exec('BEGIN');
    for (let i = 0; i < 5000; i++) insert.run(`value-${i}-${'x'.repeat(40)}`);
    made.db.exec('COMMIT');
    made.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    made.close();
    // Overwrite the middle of the file (b-tree pages of the table/index) with garbage.
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 3, 0xa7), 0, 4096 * 3, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const err = catchAppError(() =>
      openDatabase({ name: 'market.db', path, migrations, durability: 'normal' }),
    );
    expect(err.code).toBe('STORE_CORRUPT');
    expect(statSync(path).size).toBe(size);
  });

  it('starts the engine degraded with trading disabled when the ledger is corrupt', async () => {
    writeFileSync(join(dir, 'ledger.db'), Buffer.alloc(8192, 0x11));
    const engine = new Engine({
      dataDir: dir,
      resourcesDir: dir,
      version: 't',
      scheduler: new ManualScheduler(0),
      modules: [],
    });
    await engine.start();
    const status = engine.status();
    expect(status.state).toBe('degraded');
    expect(status.tradingEnabled).toBe(false);
    expect(status.databases.find((d) => d.name === 'ledger.db')).toMatchObject({ integrity: 'corrupt' });
    expect(status.databases.find((d) => d.name === 'market.db')).toMatchObject({ integrity: 'ok' });
    expect(status.problems[0]!.code).toBe('STORE_CORRUPT');
    await engine.stop();
  });
});
