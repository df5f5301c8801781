import { generateKeyPairSync, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Clock, Scheduler, TimerHandle } from '../clock.ts';
import { canonicalJson } from './canonical-json.ts';
import {
  chainHash,
  checkpointMessage,
  GENESIS_HASH,
  verifyRows,
  type AuditRow,
  type Checkpoint,
  type VerifyResult,
} from './audit-chain.ts';

/**
 * The append-only audit chain in ledger.db (table audit_log, migration 2).
 *
 * append() assigns seq and hash at once (in memory) and queues the row; queued rows are written
 * together in one transaction (group commit) after groupCommitMs or when maxPending is reached,
 * which is what makes >= 20,000 appends/s possible with synchronous=FULL. Records that must be
 * durable together with other ledger rows (an order intent before it is sent) go through
 * transaction(), which writes the queue and the caller's rows and records in one transaction.
 * Nothing is ever updated or deleted (the table's triggers refuse it).
 */
export interface AuditLedgerOptions {
  db: DatabaseSync;
  clock: Clock | Scheduler;
  /** Queued appends are written at most this long after the first one (needs a Scheduler). */
  groupCommitMs?: number;
  maxPending?: number;
}

export interface AuditRecord {
  seq: number;
  tsMs: number;
  type: string;
  payload: unknown;
  hash: string;
}

const DEFAULT_GROUP_COMMIT_MS = 5;
const DEFAULT_MAX_PENDING = 4096;

export class AuditLedger {
  private readonly db: DatabaseSync;
  private readonly clock: Clock | Scheduler;
  private readonly groupCommitMs: number;
  private readonly maxPending: number;
  private readonly insert: StatementSync;
  private headSeq: number;
  private headHash: string;
  private pending: AuditRow[] = [];
  private timer: TimerHandle | null = null;
  private isInTransaction = false;

  constructor(options: AuditLedgerOptions) {
    this.db = options.db;
    this.clock = options.clock;
    this.groupCommitMs = options.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.insert = this.db.prepare(
      'INSERT INTO audit_log (seq, ts_ms, type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const head = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
      { seq: number; hash: string } | undefined;
    this.headSeq = head?.seq ?? 0;
    this.headHash = head?.hash ?? GENESIS_HASH;
  }

  head(): { seq: number; hash: string } {
    return { seq: this.headSeq, hash: this.headHash };
  }

  /** Appends a record (queued for the next group commit); returns its seq. */
  append(type: string, payload: unknown): number {
    const row = this.makeRow(type, payload);
    this.pending.push(row);
    if (this.isInTransaction) return row.seq;
    if (this.pending.length >= this.maxPending) this.flush();
    else this.armTimer();
    return row.seq;
  }

  /** Appends and writes at once (durable when this returns). */
  appendNow(type: string, payload: unknown): number {
    const seq = this.append(type, payload);
    if (!this.isInTransaction) this.flush();
    return seq;
  }

  /**
   * Runs fn in one ledger.db transaction together with every queued record and the records fn
   * appends. On failure nothing is written and the chain head is restored.
   */
  transaction<T>(fn: () => T): T {
    if (this.isInTransaction) return fn();
    const saved = { seq: this.headSeq, hash: this.headHash, pending: this.pending.slice() };
    this.db.exec('BEGIN IMMEDIATE');
    this.isInTransaction = true;
    try {
      const result = fn();
      this.writePending();
      this.db.exec('COMMIT');
      this.pending = [];
      this.cancelTimer();
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.headSeq = saved.seq;
      this.headHash = saved.hash;
      this.pending = saved.pending;
      throw err;
    } finally {
      this.isInTransaction = false;
    }
  }

  /** Writes queued records now (one transaction). */
  flush(): void {
    this.cancelTimer();
    if (this.pending.length === 0 || this.isInTransaction) return;
    this.transaction(() => undefined);
  }

  close(): void {
    this.flush();
  }

  private makeRow(type: string, payload: unknown): AuditRow {
    const text = canonicalJson(payload);
    // Whole milliseconds: ts_ms is an INTEGER column and the hashed value must be what is stored.
    const tsMs = Math.floor(this.clock.nowMs());
    const seq = this.headSeq + 1;
    const hash = chainHash(this.headHash, tsMs, type, text);
    const row: AuditRow = { seq, tsMs, type, payload: text, prevHash: this.headHash, hash };
    this.headSeq = seq;
    this.headHash = hash;
    return row;
  }

  private writePending(): void {
    for (const r of this.pending) this.insert.run(r.seq, r.tsMs, r.type, r.payload, r.prevHash, r.hash);
  }

  private armTimer(): void {
    if (this.timer || !('schedule' in this.clock)) {
      if (!('schedule' in this.clock)) this.flush();
      return;
    }
    this.timer = this.clock.schedule(this.groupCommitMs, () => {
      this.timer = null;
      this.flush();
    });
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Records by seq range and/or type/time filters, ascending seq (bounded by limit). */
  query(filter: {
    fromSeq?: number;
    toSeq?: number;
    type?: string;
    fromMs?: number;
    toMs?: number;
    contains?: string;
    limit: number;
  }): AuditRecord[] {
    this.flush();
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.fromSeq !== undefined) {
      where.push('seq >= ?');
      args.push(filter.fromSeq);
    }
    if (filter.toSeq !== undefined) {
      where.push('seq <= ?');
      args.push(filter.toSeq);
    }
    if (filter.type !== undefined) {
      where.push('type = ?');
      args.push(filter.type);
    }
    if (filter.fromMs !== undefined) {
      where.push('ts_ms >= ?');
      args.push(filter.fromMs);
    }
    if (filter.toMs !== undefined) {
      where.push('ts_ms <= ?');
      args.push(filter.toMs);
    }
    if (filter.contains !== undefined) {
      where.push('instr(payload, ?) > 0');
      args.push(filter.contains);
    }
    const sql = `SELECT seq, ts_ms, type, payload, hash FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    args.push(filter.limit);
    const rows = this.db.prepare(sql).all(...args) as {
      seq: number;
      ts_ms: number;
      type: string;
      payload: string;
      hash: string;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      tsMs: r.ts_ms,
      type: r.type,
      payload: JSON.parse(r.payload) as unknown,
      hash: r.hash,
    }));
  }

  /** Verifies the whole chain in ledger.db (optionally against a signed checkpoint). */
  verify(options: { checkpoint?: Checkpoint; trustedPublicKey?: string } = {}): VerifyResult {
    this.flush();
    return verifyRows(iterateRows(this.db), options);
  }

  /** Signs the current head with the data folder's key, stores the checkpoint and returns it. */
  checkpoint(signer: CheckpointSigner): Checkpoint {
    this.flush();
    const c = signer.sign({
      seq: this.headSeq,
      headHash: this.headHash,
      tsMs: Math.floor(this.clock.nowMs()),
    });
    this.db
      .prepare(
        'INSERT OR REPLACE INTO audit_checkpoints (seq, head_hash, ts_ms, public_key, signature) VALUES (?, ?, ?, ?, ?)',
      )
      .run(c.seq, c.headHash, c.tsMs, c.publicKey, c.signature);
    return c;
  }

  latestCheckpoint(): Checkpoint | null {
    const r = this.db
      .prepare(
        'SELECT seq, head_hash, ts_ms, public_key, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
      )
      .get() as
      { seq: number; head_hash: string; ts_ms: number; public_key: string; signature: string } | undefined;
    return r
      ? { seq: r.seq, headHash: r.head_hash, tsMs: r.ts_ms, publicKey: r.public_key, signature: r.signature }
      : null;
  }
}

/** Streams audit_log rows in seq order (constant memory). */
export function* iterateRows(
  db: DatabaseSync,
  fromSeq = 1,
  toSeq = Number.MAX_SAFE_INTEGER,
): Generator<AuditRow> {
  const stmt = db.prepare(
    'SELECT seq, ts_ms, type, payload, prev_hash, hash FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq',
  );
  for (const r of stmt.iterate(fromSeq, toSeq) as Iterable<{
    seq: number;
    ts_ms: number;
    type: string;
    payload: string;
    prev_hash: string;
    hash: string;
  }>) {
    yield {
      seq: r.seq,
      tsMs: r.ts_ms,
      type: r.type,
      payload: r.payload,
      prevHash: r.prev_hash,
      hash: r.hash,
    };
  }
}

/** Ed25519 key for checkpoints, kept in the data folder (created on first use, owner-only). */
export class CheckpointSigner {
  readonly publicKeyPem: string;
  private readonly privateKeyPem: string;

  private constructor(privateKeyPem: string) {
    this.privateKeyPem = privateKeyPem;
    this.publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
  }

  static load(dataDir: string): CheckpointSigner {
    const path = join(dataDir, 'audit-signing-key.pem');
    if (existsSync(path)) return new CheckpointSigner(readFileSync(path, 'utf8'));
    mkdirSync(dirname(path), { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // Written aside then renamed: a crash never leaves half a key.
    writeFileSync(`${path}.tmp`, pem, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    return new CheckpointSigner(pem);
  }

  sign(c: { seq: number; headHash: string; tsMs: number }): Checkpoint {
    const signature = sign(
      null,
      Buffer.from(checkpointMessage(c)),
      createPrivateKey(this.privateKeyPem),
    ).toString('base64');
    return { ...c, publicKey: this.publicKeyPem, signature };
  }
}
