import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { CliError, EXIT_USAGE, globalOptions, printJson } from '../context.ts';
import { openDatabase, type OpenedDatabase } from '../../core/store/sqlite.ts';
import { ledgerMigrations } from '../../core/store/ledger-migrations.ts';
import { AuditLedger, CheckpointSigner, iterateRows } from '../../core/audit/audit-ledger.ts';
import {
  verifyRows,
  GENESIS_HASH,
  type AuditRow,
  type Checkpoint,
  type VerifyResult,
} from '../../core/audit/audit-chain.ts';

const EXPORT_FORMAT = 'vantage-audit-export/1';

interface ExportHeader {
  format: string;
  fromSeq: number;
  toSeq: number;
  /** prev_hash of the first exported record (GENESIS for an export from record 1). */
  anchorPrevHash: string;
  /** Signed checkpoint over the last exported record. */
  checkpoint: Checkpoint;
  publicKey: string;
  hashRule: string;
}

function openLedger(dataDir: string): OpenedDatabase {
  const path = join(dataDir, 'ledger.db');
  if (!existsSync(path))
    throw new CliError(`No ledger.db in ${dataDir}: nothing has been recorded there yet.`);
  return openDatabase({ name: 'ledger.db', path, migrations: ledgerMigrations, durability: 'full' });
}

function readCheckpoint(file: string): Checkpoint {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
    if (
      typeof c.seq !== 'number' ||
      typeof c.headHash !== 'string' ||
      typeof c.signature !== 'string' ||
      typeof c.publicKey !== 'string'
    )
      throw new Error('missing fields');
    return c;
  } catch (err) {
    throw new CliError(
      `${file} is not a Vantage checkpoint file (${err instanceof Error ? err.message : String(err)}).`,
      EXIT_USAGE,
    );
  }
}

/** A seq number, or a date/time (ISO 8601) turned into ms. */
function parseBound(text: string | undefined, name: string): { seq?: number; ms?: number } {
  if (text === undefined) return {};
  if (/^\d+$/.test(text)) return { seq: Number(text) };
  const ms = Date.parse(text);
  if (!Number.isFinite(ms))
    throw new CliError(`${name} takes a record number or a date/time (ISO 8601), not '${text}'.`, EXIT_USAGE);
  return { ms };
}

function report(result: VerifyResult, json: boolean, durationMs: number): void {
  if (json) {
    printJson({ ...result, durationMs });
  } else if (result.isOk) {
    process.stdout.write(
      `OK: ${result.records} records verified in ${durationMs.toFixed(0)} ms, head ${result.headSeq} ${result.headHash.slice(0, 16)}...` +
        `${result.isCheckpointChecked ? ', signed checkpoint matches' : ' (no checkpoint: truncation of the newest records cannot be detected)'}\n`,
    );
  } else {
    const p = result.problem!;
    process.stdout.write(`FAILED at record ${p.seq}: ${p.kind}: ${p.message}\n`);
  }
  if (!result.isOk) process.exitCode = 1;
}

async function* readExportRows(file: string, onHeader: (h: ExportHeader) => void): AsyncGenerator<AuditRow> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let isFirst = true;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const value = JSON.parse(line) as Record<string, unknown>;
    if (isFirst) {
      isFirst = false;
      if (value['format'] !== EXPORT_FORMAT)
        throw new CliError(`${file} is not a Vantage audit export (no ${EXPORT_FORMAT} header).`, EXIT_USAGE);
      onHeader(value as unknown as ExportHeader);
      continue;
    }
    yield {
      seq: value['seq'] as number,
      tsMs: value['tsMs'] as number,
      type: value['type'] as string,
      payload: value['payload'] as string,
      prevHash: value['prevHash'] as string,
      hash: value['hash'] as string,
    };
  }
}

export function register(program: Command): void {
  const audit = program
    .command('audit')
    .description('Verify, checkpoint and export the tamper-evident audit ledger (ledger.db).');

  audit
    .command('verify')
    .description(
      'Verify the hash chain and report OK or the first bad record and why (modified, deleted, inserted, reordered, truncated).',
    )
    .option(
      '--checkpoint <file>',
      'signed checkpoint file to verify against (default: the latest one stored in the ledger)',
    )
    .option('--public-key <file>', 'trusted public key (PEM) the checkpoint must be signed with')
    .option('--export <file>', 'verify an exported JSONL file instead of the ledger')
    .action(async (opts: { checkpoint?: string; publicKey?: string; export?: string }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const trustedPublicKey = opts.publicKey ? readFileSync(opts.publicKey, 'utf8') : undefined;
      const started = performance.now();
      if (opts.export) {
        let header: ExportHeader | null = null;
        const rows: AuditRow[] = [];
        for await (const row of readExportRows(opts.export, (h) => (header = h))) rows.push(row);
        if (!header) throw new CliError(`${opts.export} is empty.`, EXIT_USAGE);
        const h: ExportHeader = header;
        const checkpoint = opts.checkpoint ? readCheckpoint(opts.checkpoint) : h.checkpoint;
        const result = verifyRows(rows, {
          checkpoint,
          firstSeq: h.fromSeq,
          anchorPrevHash: h.anchorPrevHash,
          ...(trustedPublicKey ? { trustedPublicKey } : {}),
        });
        report(result, json, performance.now() - started);
        return;
      }
      const ledger = openLedger(dataDir);
      try {
        const stored = new AuditLedger({ db: ledger.db, clock: { nowMs: () => Date.now() } });
        const checkpoint = opts.checkpoint ? readCheckpoint(opts.checkpoint) : stored.latestCheckpoint();
        const result = stored.verify({
          ...(checkpoint ? { checkpoint } : {}),
          ...(trustedPublicKey ? { trustedPublicKey } : {}),
        });
        report(result, json, performance.now() - started);
      } finally {
        ledger.close();
      }
    });

  audit
    .command('checkpoint')
    .description(
      'Sign the current head of the chain with the data folder key and write the checkpoint to a file of your choice.',
    )
    .requiredOption('--out <file>', 'where to write the signed checkpoint (JSON)')
    .action((opts: { out: string }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const ledger = openLedger(dataDir);
      try {
        const stored = new AuditLedger({ db: ledger.db, clock: { nowMs: () => Date.now() } });
        const checkpoint = stored.checkpoint(CheckpointSigner.load(dataDir));
        writeFileSync(opts.out, `${JSON.stringify(checkpoint, null, 2)}\n`);
        if (json) printJson(checkpoint);
        else
          process.stdout.write(
            `checkpoint at record ${checkpoint.seq} (${checkpoint.headHash.slice(0, 16)}...) written to ${opts.out}\n`,
          );
      } finally {
        ledger.close();
      }
    });

  audit
    .command('export')
    .description(
      'Write audit records as JSONL with what is needed to verify them elsewhere (anchor hash, public key, signed checkpoint).',
    )
    .requiredOption('--out <file>', 'JSONL file to write')
    .option('--from <seq|time>', 'first record number or date/time (ISO 8601)')
    .option('--to <seq|time>', 'last record number or date/time (ISO 8601)')
    .action(async (opts: { out: string; from?: string; to?: string }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const from = parseBound(opts.from, '--from');
      const to = parseBound(opts.to, '--to');
      const ledger = openLedger(dataDir);
      try {
        const db = ledger.db;
        const firstSeq =
          from.seq ??
          (from.ms !== undefined
            ? ((
                db.prepare('SELECT MIN(seq) AS s FROM audit_log WHERE ts_ms >= ?').get(from.ms) as {
                  s: number | null;
                }
              ).s ?? 0)
            : 1);
        const lastSeq =
          to.seq ??
          (to.ms !== undefined
            ? ((
                db.prepare('SELECT MAX(seq) AS s FROM audit_log WHERE ts_ms <= ?').get(to.ms) as {
                  s: number | null;
                }
              ).s ?? 0)
            : ((db.prepare('SELECT MAX(seq) AS s FROM audit_log').get() as { s: number | null }).s ?? 0));
        if (firstSeq <= 0 || lastSeq < firstSeq)
          throw new CliError(
            `No audit records in the requested range (${opts.from ?? 'start'} .. ${opts.to ?? 'end'}).`,
          );
        const anchor =
          firstSeq === 1
            ? GENESIS_HASH
            : (
                db.prepare('SELECT hash FROM audit_log WHERE seq = ?').get(firstSeq - 1) as
                  { hash: string } | undefined
              )?.hash;
        const last = db.prepare('SELECT hash, ts_ms FROM audit_log WHERE seq = ?').get(lastSeq) as
          { hash: string; ts_ms: number } | undefined;
        if (!anchor || !last)
          throw new CliError(
            `Records ${firstSeq}..${lastSeq} are not all present: run 'vantage audit verify' first.`,
          );
        const signer = CheckpointSigner.load(dataDir);
        const checkpoint = signer.sign({ seq: lastSeq, headHash: last.hash, tsMs: Date.now() });
        const header: ExportHeader = {
          format: EXPORT_FORMAT,
          fromSeq: firstSeq,
          toSeq: lastSeq,
          anchorPrevHash: anchor,
          checkpoint,
          publicKey: signer.publicKeyPem,
          hashRule:
            'hash = SHA-256(prevHash || {"payload":<payload>,"tsMs":<tsMs>,"type":<type as JSON string>}) in lowercase hex; payload is canonical JSON (sorted keys, shortest round-trip numbers); checkpoint signature is Ed25519 over {"headHash":..,"seq":..,"tsMs":..}',
        };
        const stream = createWriteStream(opts.out);
        stream.write(`${JSON.stringify(header)}\n`);
        let count = 0;
        for (const row of iterateRows(db, firstSeq, lastSeq)) {
          if (!stream.write(`${JSON.stringify(row)}\n`))
            await new Promise<void>((r) => stream.once('drain', () => r()));
          count++;
        }
        await new Promise<void>((resolvePromise, reject) =>
          stream.end((err?: Error | null) => (err ? reject(err) : resolvePromise())),
        );
        if (json) printJson({ out: opts.out, fromSeq: firstSeq, toSeq: lastSeq, records: count });
        else
          process.stdout.write(
            `exported records ${firstSeq}..${lastSeq} (${count}) to ${opts.out}; verify with: vantage audit verify --export ${opts.out}\n`,
          );
      } finally {
        ledger.close();
      }
    });
}
