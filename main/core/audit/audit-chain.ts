import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/**
 * The hash chain, independent of storage (ledger.db rows and exported JSONL verify the same way).
 *
 * A record's hashed body is canonicalJson({ payload, tsMs, type }) with payload already canonical
 * (so the stored payload text is hashed as is), and hash = SHA-256(prev_hash || body) in lowercase
 * hex, prev_hash of the first record being 64 zeros. seq is the position and is checked for
 * continuity rather than hashed, so a reordering is recognised as such (the moved records still
 * hash correctly but chain to the wrong neighbours).
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRow {
  seq: number;
  tsMs: number;
  type: string;
  /** Canonical JSON text of the payload. */
  payload: string;
  prevHash: string;
  hash: string;
}

export function recordBody(tsMs: number, type: string, payloadCanonical: string): string {
  // Same bytes as canonicalJson({ payload, tsMs, type }) (keys in sorted order).
  return `{"payload":${payloadCanonical},"tsMs":${canonicalJson(tsMs)},"type":${JSON.stringify(type)}}`;
}

export function chainHash(prevHash: string, tsMs: number, type: string, payloadCanonical: string): string {
  return createHash('sha256')
    .update(prevHash)
    .update(recordBody(tsMs, type, payloadCanonical))
    .digest('hex');
}

export type TamperKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'bad-checkpoint';

export interface VerifyProblem {
  kind: TamperKind;
  /** The first bad record's seq (for 'deleted': the first missing seq). */
  seq: number;
  message: string;
}

export interface Checkpoint {
  seq: number;
  headHash: string;
  tsMs: number;
  /** Ed25519 public key, SPKI PEM. */
  publicKey: string;
  /** base64 Ed25519 signature of checkpointMessage(). */
  signature: string;
}

export function checkpointMessage(c: { seq: number; headHash: string; tsMs: number }): string {
  return canonicalJson({ headHash: c.headHash, seq: c.seq, tsMs: c.tsMs });
}

export function isCheckpointSignatureValid(c: Checkpoint, trustedPublicKey?: string): boolean {
  try {
    const key = createPublicKey(trustedPublicKey ?? c.publicKey);
    return verifySignature(null, Buffer.from(checkpointMessage(c)), key, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export interface VerifyResult {
  isOk: boolean;
  records: number;
  headSeq: number;
  headHash: string;
  problem: VerifyProblem | null;
  /** Whether a checkpoint was checked (signature and head). */
  isCheckpointChecked: boolean;
}

/**
 * Walks rows in stored order (ascending seq) and reports the first bad record and why.
 * `firstSeq`/`anchorPrevHash` let an export that starts mid-chain be verified.
 * Rows are read one ahead, so an inserted record is told apart from a modified one.
 */
export function verifyRows(
  rows: Iterable<AuditRow>,
  options: {
    checkpoint?: Checkpoint;
    trustedPublicKey?: string;
    firstSeq?: number;
    anchorPrevHash?: string;
  } = {},
): VerifyResult {
  const checkpoint = options.checkpoint;
  let expectedSeq = options.firstSeq ?? 1;
  let prevHash = options.anchorPrevHash ?? GENESIS_HASH;
  let prevPrevHash: string | null = null;
  let prevSeq = expectedSeq - 1;
  let count = 0;
  // Hashes of every record seen (seq by hash): a record chaining to a later one is reordered.
  const iterator = rows[Symbol.iterator]();
  let next = iterator.next();
  let laterHashes: Map<string, number> | null = null;
  let checkpointHash: string | null = null;
  if (checkpoint && !isCheckpointSignatureValid(checkpoint, options.trustedPublicKey)) {
    return fail(
      0,
      '',
      {
        kind: 'bad-checkpoint',
        seq: checkpoint.seq,
        message: 'the checkpoint signature does not verify with the public key',
      },
      false,
    );
  }
  while (!next.done) {
    const row = next.value;
    next = iterator.next();
    if (row.seq !== expectedSeq) {
      if (row.seq > expectedSeq) {
        return fail(count, prevHash, {
          kind: 'deleted',
          seq: expectedSeq,
          message: `record ${expectedSeq}${row.seq - 1 > expectedSeq ? `..${row.seq - 1}` : ''} is missing (the chain jumps from ${prevSeq} to ${row.seq})`,
        });
      }
      return fail(count, prevHash, {
        kind: 'inserted',
        seq: row.seq,
        message: `record ${row.seq} appears again after ${prevSeq}`,
      });
    }
    const recomputed = chainHash(row.prevHash, row.tsMs, row.type, row.payload);
    if (recomputed !== row.hash) {
      // A foreign record slipped in: the next one still chains to the record before it.
      if (!next.done && next.value.prevHash === prevHash && row.prevHash !== prevHash) {
        return fail(count, prevHash, {
          kind: 'inserted',
          seq: row.seq,
          message: `record ${row.seq} was inserted: record ${next.value.seq} chains to record ${prevSeq}`,
        });
      }
      return fail(count, prevHash, {
        kind: 'modified',
        seq: row.seq,
        message: `record ${row.seq} (${safeType(row.type)}) was modified: its content does not hash to its stored hash`,
      });
    }
    if (row.prevHash !== prevHash) {
      if (prevPrevHash !== null && row.prevHash === prevPrevHash) {
        return fail(count, prevHash, {
          kind: 'inserted',
          seq: prevSeq,
          message: `record ${prevSeq} was inserted: record ${row.seq} chains to the record before it`,
        });
      }
      const following = next.done ? null : next.value;
      laterHashes ??= collectHashes(next, iterator);
      if (laterHashes.has(row.prevHash)) {
        return fail(count, prevHash, {
          kind: 'reordered',
          seq: row.seq,
          message: `record ${row.seq} is out of order: it chains to the record now at ${laterHashes.get(row.prevHash)}`,
        });
      }
      if (following && following.prevHash === prevHash) {
        return fail(count, prevHash, {
          kind: 'inserted',
          seq: row.seq,
          message: `record ${row.seq} was inserted: record ${following.seq} chains to record ${prevSeq}`,
        });
      }
      return fail(count, prevHash, {
        kind: 'deleted',
        seq: row.seq,
        message: `a record before ${row.seq} is missing: it chains to a hash no record has`,
      });
    }
    if (checkpoint && row.seq === checkpoint.seq) checkpointHash = row.hash;
    prevPrevHash = prevHash;
    prevHash = row.hash;
    prevSeq = row.seq;
    expectedSeq = row.seq + 1;
    count++;
  }
  if (checkpoint) {
    if (prevSeq < checkpoint.seq) {
      return fail(
        count,
        prevHash,
        {
          kind: 'truncated',
          seq: prevSeq + 1,
          message: `the ledger ends at record ${prevSeq} but the signed checkpoint covers ${checkpoint.seq}: records ${prevSeq + 1}..${checkpoint.seq} were removed`,
        },
        true,
      );
    }
    if (checkpointHash !== checkpoint.headHash) {
      return fail(
        count,
        prevHash,
        {
          kind: 'modified',
          seq: checkpoint.seq,
          message: `the chain up to record ${checkpoint.seq} was rewritten: its hash differs from the signed checkpoint`,
        },
        true,
      );
    }
  }
  return {
    isOk: true,
    records: count,
    headSeq: prevSeq,
    headHash: prevHash,
    problem: null,
    isCheckpointChecked: checkpoint !== undefined,
  };

  function fail(
    records: number,
    head: string,
    problem: VerifyProblem,
    isCheckpointChecked = checkpoint !== undefined,
  ): VerifyResult {
    return { isOk: false, records, headSeq: prevSeq, headHash: head, problem, isCheckpointChecked };
  }
}

function collectHashes(first: IteratorResult<AuditRow>, iterator: Iterator<AuditRow>): Map<string, number> {
  const map = new Map<string, number>();
  let item = first;
  while (!item.done) {
    map.set(item.value.hash, item.value.seq);
    item = iterator.next();
  }
  return map;
}

function safeType(type: string): string {
  return type.length > 40 ? `${type.slice(0, 40)}...` : type;
}
