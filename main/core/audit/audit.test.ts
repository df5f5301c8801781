import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualScheduler } from '../clock.ts';
import { canonicalJson, CanonicalJsonError } from './canonical-json.ts';
import { chainHash, GENESIS_HASH, verifyRows, type AuditRow, type Checkpoint } from './audit-chain.ts';
import { AuditLedger, CheckpointSigner, iterateRows } from './audit-ledger.ts';
import { openTempLedger } from '../execution/test-support/ledger.ts';

let env: ReturnType<typeof openTempLedger>;
beforeEach(() => {
  env = openTempLedger('vantage-audit-');
});
afterEach(() => env.cleanup());

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('writes numbers as their shortest round-trip form and -0 as 0', () => {
    expect(canonicalJson([0.1, 1e21, 5e-324, -0, 123456789.125])).toBe('[0.1,1e+21,5e-324,0,123456789.125]');
  });

  it('refuses NaN, Infinity, bigint, Dates and undefined array items', () => {
    for (const bad of [NaN, Infinity, -Infinity, 1n, new Date(0), [undefined], { a: new Map() }]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
  });

  it('is the same for equal values whatever the key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reordered = JSON.parse(
          JSON.stringify(value, (_k, v: unknown) =>
            v && typeof v === 'object' && !Array.isArray(v)
              ? Object.fromEntries(Object.entries(v).reverse())
              : v,
          ),
        ) as unknown;
        const text = canonicalJson(value);
        expect(canonicalJson(reordered)).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});

function buildLedger(count: number): { ledger: AuditLedger; scheduler: ManualScheduler } {
  const scheduler = new ManualScheduler(1_700_000_000_000);
  const ledger = new AuditLedger({ db: env.ledger.db, clock: scheduler });
  for (let i = 0; i < count; i++) {
    ledger.append(i % 3 === 0 ? 'order.intent' : 'fill', {
      i,
      symbol: 'BTC/USDT',
      price: 64000.5 + i,
      note: `r${i}`,
    });
    scheduler.advance(7);
  }
  ledger.flush();
  return { ledger, scheduler };
}

describe('audit ledger', () => {
  it('chains every record to the previous one and verifies OK', () => {
    const { ledger } = buildLedger(50);
    const rows = [...iterateRows(env.ledger.db)];
    expect(rows).toHaveLength(50);
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(ledger.verify()).toMatchObject({ isOk: true, records: 50, headSeq: 50 });
  });

  it('group-commits appends and writes them all on flush', () => {
    const scheduler = new ManualScheduler(0);
    const ledger = new AuditLedger({ db: env.ledger.db, clock: scheduler, groupCommitMs: 5 });
    for (let i = 0; i < 100; i++) ledger.append('x', { i });
    const count = (): number =>
      (env.ledger.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
    expect(count()).toBe(0);
    scheduler.advance(5);
    expect(count()).toBe(100);
  });

  it('writes nothing and restores the head when a transaction fails', () => {
    const { ledger } = buildLedger(3);
    const head = ledger.head();
    expect(() =>
      ledger.transaction(() => {
        ledger.append('order.intent', { a: 1 });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ledger.head()).toEqual(head);
    ledger.appendNow('after', {});
    expect(ledger.verify().isOk).toBe(true);
  });

  it('refuses UPDATE and DELETE on the audit table', () => {
    buildLedger(3);
    expect(() => env.ledger.db.exec("UPDATE audit_log SET type = 'x' WHERE seq = 1")).toThrow(/append-only/);
    expect(() => env.ledger.db.exec('DELETE FROM audit_log WHERE seq = 1')).toThrow(/append-only/);
  });

  it('signs checkpoints with a key kept in the data folder and detects truncation against one', () => {
    const { ledger } = buildLedger(20);
    const signer = CheckpointSigner.load(env.dir);
    const checkpoint = ledger.checkpoint(signer);
    expect(CheckpointSigner.load(env.dir).publicKeyPem).toBe(signer.publicKeyPem);
    expect(ledger.verify({ checkpoint }).isOk).toBe(true);
    env.ledger.db.exec('DROP TRIGGER audit_log_no_delete');
    env.ledger.db.exec('DELETE FROM audit_log WHERE seq > 17');
    const result = ledger.verify({ checkpoint });
    expect(result.problem).toMatchObject({ kind: 'truncated', seq: 18 });
    const forged = { ...checkpoint, seq: 17 };
    expect(ledger.verify({ checkpoint: forged }).problem?.kind).toBe('bad-checkpoint');
  });

  it('names the first bad record when a row is edited in the database', () => {
    buildLedger(30);
    env.ledger.db.exec('DROP TRIGGER audit_log_no_update');
    env.ledger.db.exec(
      `UPDATE audit_log SET payload = replace(payload, '64012.5', '64012.6') WHERE seq = 13`,
    );
    const ledger = new AuditLedger({ db: env.ledger.db, clock: new ManualScheduler(0) });
    expect(ledger.verify().problem).toMatchObject({ kind: 'modified', seq: 13 });
  });
});

type Tampering =
  | {
      kind: 'bitflip';
      index: number;
      field: 'tsMs' | 'type' | 'payload' | 'prevHash' | 'hash';
      position: number;
      bit: number;
    }
  | { kind: 'seqflip'; index: number; bit: number }
  | { kind: 'delete'; index: number }
  | { kind: 'insert'; index: number; isCareful: boolean; payload: string }
  | { kind: 'swap'; index: number; other: number }
  | { kind: 'truncate'; keep: number };

const N = 40;

const tamperingArb: fc.Arbitrary<Tampering> = fc.oneof(
  fc.record({
    kind: fc.constant('bitflip' as const),
    index: fc.nat(N - 1),
    field: fc.constantFrom(
      'tsMs' as const,
      'type' as const,
      'payload' as const,
      'prevHash' as const,
      'hash' as const,
    ),
    position: fc.nat(200),
    bit: fc.nat(6),
  }),
  fc.record({ kind: fc.constant('seqflip' as const), index: fc.nat(N - 1), bit: fc.nat(12) }),
  fc.record({ kind: fc.constant('delete' as const), index: fc.nat(N - 1) }),
  fc.record({
    kind: fc.constant('insert' as const),
    index: fc.integer({ min: 0, max: N - 1 }),
    isCareful: fc.boolean(),
    payload: fc.string({ maxLength: 20 }),
  }),
  fc.record({
    kind: fc.constant('swap' as const),
    index: fc.nat(N - 2),
    other: fc.integer({ min: 1, max: N - 1 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat(N - 1) }),
);

function flipString(text: string, position: number, bit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  const p = position % bytes.length;
  bytes[p] = bytes[p]! ^ (1 << bit);
  return bytes.toString('utf8');
}

/** Applies a tampering to a copy of the rows; returns the rows (in stored, seq order) and the seqs that locate it. */
function tamper(original: readonly AuditRow[], t: Tampering): { rows: AuditRow[]; located: number[] } | null {
  const rows = original.map((r) => ({ ...r }));
  switch (t.kind) {
    case 'bitflip': {
      const row = rows[t.index]!;
      if (t.field === 'tsMs') row.tsMs = row.tsMs ^ (1 << (t.bit + (t.position % 24)));
      else row[t.field] = flipString(row[t.field], t.position, t.bit);
      if (JSON.stringify(row) === JSON.stringify(original[t.index])) return null;
      return { rows, located: [row.seq] };
    }
    case 'seqflip': {
      const row = rows[t.index]!;
      const seq = row.seq ^ (1 << t.bit);
      if (seq <= 0 || rows.some((r) => r.seq === seq)) return null; // SQLite's primary key would refuse it
      const before = row.seq;
      row.seq = seq;
      rows.sort((a, b) => a.seq - b.seq);
      return { rows, located: [before, seq] };
    }
    case 'delete': {
      const [removed] = rows.splice(t.index, 1);
      return { rows, located: [removed!.seq] };
    }
    case 'insert': {
      const prev = t.index === 0 ? GENESIS_HASH : rows[t.index - 1]!.hash;
      const payload = JSON.stringify(t.payload);
      const prevHash = t.isCareful ? prev : chainHash('f'.repeat(64), 1, 'x', '1');
      const forged: AuditRow = {
        seq: t.index + 1,
        tsMs: 1_700_000_000_123,
        type: 'fill',
        payload,
        prevHash,
        hash: chainHash(prevHash, 1_700_000_000_123, 'fill', payload),
      };
      rows.splice(t.index, 0, forged);
      rows.forEach((r, i) => (r.seq = i + 1));
      return { rows, located: [t.index + 1] };
    }
    case 'swap': {
      const j = Math.min(N - 1, t.index + t.other);
      if (j === t.index) return null;
      const a = rows[t.index]!;
      const b = rows[j]!;
      rows[t.index] = { ...b, seq: a.seq };
      rows[j] = { ...a, seq: b.seq };
      return { rows, located: [a.seq] };
    }
    case 'truncate':
      return { rows: rows.slice(0, t.keep), located: [t.keep + 1] };
  }
}

describe('tamper detection', () => {
  it('detects and locates 1,000 random tamperings (bit flips, deletes, inserts, swaps, truncation) against a checkpoint', () => {
    const { ledger } = buildLedger(N);
    const checkpoint: Checkpoint = ledger.checkpoint(CheckpointSigner.load(env.dir));
    const original = [...iterateRows(env.ledger.db)];
    expect(verifyRows(original, { checkpoint }).isOk).toBe(true);
    let tested = 0;
    fc.assert(
      fc.property(tamperingArb, (t) => {
        const tampered = tamper(original, t);
        fc.pre(tampered !== null);
        tested++;
        const result = verifyRows(tampered!.rows, { checkpoint, trustedPublicKey: checkpoint.publicKey });
        expect(result.isOk, `${JSON.stringify(t)} went undetected`).toBe(false);
        expect(
          tampered!.located,
          `${JSON.stringify(t)}: reported ${JSON.stringify(result.problem)}`,
        ).toContain(result.problem!.seq);
      }),
      { numRuns: 1000, seed: 7 },
    );
    expect(tested).toBeGreaterThan(900);
  });

  it('classifies each kind of tampering', () => {
    const { ledger } = buildLedger(N);
    const checkpoint = ledger.checkpoint(CheckpointSigner.load(env.dir));
    const original = [...iterateRows(env.ledger.db)];
    const kindOf = (t: Tampering): string | undefined =>
      verifyRows(tamper(original, t)!.rows, { checkpoint }).problem?.kind;
    expect(kindOf({ kind: 'bitflip', index: 5, field: 'payload', position: 3, bit: 1 })).toBe('modified');
    expect(kindOf({ kind: 'delete', index: 5 })).toBe('deleted');
    expect(kindOf({ kind: 'insert', index: 5, isCareful: true, payload: 'x' })).toBe('inserted');
    expect(kindOf({ kind: 'insert', index: 5, isCareful: false, payload: 'x' })).toBe('inserted');
    expect(kindOf({ kind: 'swap', index: 5, other: 1 })).toBe('reordered');
    expect(kindOf({ kind: 'truncate', keep: 30 })).toBe('truncated');
  });
});
