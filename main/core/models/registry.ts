import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appError, AppErrorException, type AppError } from '../../../shared/errors.ts';
import { type CheckedCard, parseCardText } from './card.ts';
import { ModelSession, type LatencySummary, type SessionOptions } from './session.ts';

/**
 * The model registry: bundled models (<resourcesDir>/models) and the user's (<dataDir>/models),
 * each an `<name>.onnx` file with `<name>.card.json` next to it. Listing reads only the cards;
 * loading checks the file's sha256 against the card, the card against itself and the feature
 * catalog (card.ts), and the ONNX signature against the card (session.ts) before the session is
 * kept. A user model with the name of a bundled one takes its place.
 */

export const MAX_MODEL_BYTES = 64 * 1024 * 1024;

export type ModelSource = 'bundled' | 'user';
export type ModelStatus = 'available' | 'loaded' | 'invalid';

export interface ModelEntry {
  name: string;
  version: string;
  sha256: string;
  source: ModelSource;
  onnxPath: string;
  cardPath: string;
  status: ModelStatus;
  /** Why the model is invalid (status 'invalid'). */
  error: AppError | null;
  checked: CheckedCard | null;
}

export interface ModelSummary {
  name: string;
  version: string;
  sha256: string;
  source: ModelSource;
  status: ModelStatus;
  provider: string | null;
  providerNotes: string[];
  /** Where batch-1 runs execute and why (ModelSession.placementNote); null when not loaded. */
  placement: string | null;
  latency: LatencySummary | null;
  error: AppError | null;
  layout: 'tabular' | 'window';
  features: string[];
  card: Record<string, unknown> | null;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppErrorException) return error.toAppError();
  return { code: 'MODEL_LOAD_FAILED', message: error instanceof Error ? error.message : String(error) };
}

/** Input dimensions after the batch dimension. */
export function innerShapeOf(checked: CheckedCard): number[] {
  const { spec, columns } = checked;
  return spec.layout.kind === 'window' ? [spec.layout.windowBars, columns.length] : [columns.length];
}

/** Checks ONNX bytes against a checked card: hash, then a session on `options`' provider. */
export async function openModel(
  bytes: Uint8Array,
  checked: CheckedCard,
  options: SessionOptions = {},
): Promise<ModelSession> {
  if (bytes.length > MAX_MODEL_BYTES)
    throw appError(
      'MODEL_INVALID',
      `The ONNX file is ${bytes.length} bytes; the limit is ${MAX_MODEL_BYTES}.`,
      { field: 'file' },
    );
  const actual = sha256Hex(bytes);
  if (actual !== checked.card.sha256)
    throw appError(
      'MODEL_INVALID',
      `Model card invalid at sha256: the card says ${checked.card.sha256}, the ONNX file hashes to ${actual}`,
      {
        field: 'sha256',
      },
    );
  return ModelSession.create(bytes, checked.card, innerShapeOf(checked), options);
}

export class ModelRegistry {
  private readonly dirs: { dir: string; source: ModelSource }[];
  private readonly userDir: string;
  private readonly options: SessionOptions;
  private entries = new Map<string, ModelEntry>();
  private readonly sessions = new Map<string, ModelSession>();
  private readonly loading = new Map<string, Promise<ModelSession>>();

  constructor(options: { resourcesDir: string; dataDir: string } & SessionOptions) {
    this.userDir = join(options.dataDir, 'models');
    this.dirs = [
      { dir: join(options.resourcesDir, 'models'), source: 'bundled' },
      { dir: this.userDir, source: 'user' },
    ];
    this.options = {
      ...(options.forceCpu !== undefined ? { forceCpu: options.forceCpu } : {}),
      ...(options.provider ? { provider: options.provider } : {}),
    };
    this.scan();
  }

  /** Re-reads both folders' cards (sessions already loaded stay). */
  scan(): void {
    const next = new Map<string, ModelEntry>();
    for (const { dir, source } of this.dirs) {
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir).sort()) {
        if (!file.endsWith('.card.json')) continue;
        const stem = file.slice(0, -'.card.json'.length);
        const cardPath = join(dir, file);
        const onnxPath = join(dir, `${stem}.onnx`);
        let entry: ModelEntry = {
          name: stem,
          version: '?',
          sha256: '',
          source,
          onnxPath,
          cardPath,
          status: 'invalid',
          error: null,
          checked: null,
        };
        try {
          const checked = parseCardText(readFileSync(cardPath, 'utf8'));
          const card = checked.card;
          entry = {
            ...entry,
            name: card.name,
            version: card.version,
            sha256: card.sha256,
            status: 'available',
            checked,
          };
          if (!existsSync(onnxPath))
            throw appError(
              'MODEL_INVALID',
              `Model file missing: ${onnxPath} (the card ${file} has no .onnx next to it)`,
              { field: 'file' },
            );
        } catch (error) {
          entry = { ...entry, status: 'invalid', error: toAppError(error) };
        }
        if (this.sessions.has(entry.name)) entry.status = 'loaded';
        next.set(entry.name, entry);
      }
    }
    this.entries = next;
  }

  list(): ModelSummary[] {
    return [...this.entries.values()].map((e) => this.summary(e));
  }

  summary(e: ModelEntry): ModelSummary {
    const session = this.sessions.get(e.name) ?? null;
    return {
      name: e.name,
      version: e.version,
      sha256: e.sha256,
      source: e.source,
      status: e.status,
      provider: session?.provider ?? null,
      providerNotes: session?.providerNotes ?? [],
      placement: session?.placementNote ?? null,
      latency: session?.latency() ?? null,
      error: e.error,
      layout: e.checked?.spec.layout.kind ?? 'tabular',
      features: e.checked?.columns ?? [],
      card: e.checked ? (e.checked.card as unknown as Record<string, unknown>) : null,
    };
  }

  entry(name: string): ModelEntry {
    const e = this.entries.get(name);
    if (!e)
      throw appError(
        'NOT_FOUND',
        `No model named '${name}' (known: ${[...this.entries.keys()].join(', ') || 'none'}).`,
        { name },
      );
    return e;
  }

  session(name: string): ModelSession | null {
    return this.sessions.get(name) ?? null;
  }

  /** Loads (or returns the loaded) session; on failure the entry becomes 'invalid' with the reason. */
  async load(name: string): Promise<ModelSession> {
    const existing = this.sessions.get(name);
    if (existing) return existing;
    const pending = this.loading.get(name);
    if (pending) return pending;
    const e = this.entry(name);
    const promise = (async () => {
      try {
        if (!e.checked)
          throw new AppErrorException(
            e.error?.code ?? 'MODEL_INVALID',
            e.error?.message ?? 'invalid card',
            e.error?.details,
          );
        if (!existsSync(e.onnxPath))
          throw appError('MODEL_INVALID', `Model file missing: ${e.onnxPath}`, { field: 'file' });
        const session = await openModel(readFileSync(e.onnxPath), e.checked, this.options);
        this.sessions.set(name, session);
        e.status = 'loaded';
        e.error = null;
        return session;
      } catch (error) {
        e.status = 'invalid';
        e.error = toAppError(error);
        throw error;
      } finally {
        this.loading.delete(name);
      }
    })();
    this.loading.set(name, promise);
    return promise;
  }

  async unload(name: string): Promise<void> {
    const e = this.entry(name);
    const session = this.sessions.get(name);
    if (!session) return;
    this.sessions.delete(name);
    e.status = 'available';
    await session.release();
  }

  /** Re-checks a model from disk (hash, card, signature) without keeping a session. */
  async verify(name: string): Promise<ModelSummary & { ok: boolean }> {
    const e = this.entry(name);
    try {
      const checked = parseCardText(readFileSync(e.cardPath, 'utf8'));
      if (!existsSync(e.onnxPath))
        throw appError('MODEL_INVALID', `Model file missing: ${e.onnxPath}`, { field: 'file' });
      const session = await openModel(readFileSync(e.onnxPath), checked, { ...this.options, forceCpu: true });
      await session.release();
      if (e.status === 'invalid') {
        e.status = this.sessions.has(name) ? 'loaded' : 'available';
        e.error = null;
        e.checked = checked;
      }
      return { ...this.summary(e), ok: true };
    } catch (error) {
      e.status = 'invalid';
      e.error = toAppError(error);
      return { ...this.summary(e), ok: false };
    }
  }

  /**
   * Validates ONNX bytes + card text fully (including a session) and only then writes both into
   * <dataDir>/models (temp files renamed into place: never a half-imported model).
   */
  async importModel(bytes: Uint8Array, cardText: string): Promise<ModelSummary> {
    const checked = parseCardText(cardText);
    const name = checked.card.name;
    const existing = this.entries.get(name);
    if (existing?.source === 'bundled' || this.sessions.has(name))
      throw appError(
        'MODEL_INVALID',
        `Model card invalid at name: '${name}' is ${this.sessions.has(name) ? 'loaded' : 'a bundled model'}; give the import another name.`,
        {
          field: 'name',
        },
      );
    const session = await openModel(bytes, checked, { ...this.options, forceCpu: true });
    await session.release();
    mkdirSync(this.userDir, { recursive: true });
    const onnxPath = join(this.userDir, `${name}.onnx`);
    const cardPath = join(this.userDir, `${name}.card.json`);
    try {
      writeFileSync(`${onnxPath}.tmp`, bytes);
      writeFileSync(`${cardPath}.tmp`, cardText);
      renameSync(`${onnxPath}.tmp`, onnxPath);
      renameSync(`${cardPath}.tmp`, cardPath);
    } catch (error) {
      for (const p of [`${onnxPath}.tmp`, `${cardPath}.tmp`]) rmSync(p, { force: true });
      throw appError(
        'MODEL_LOAD_FAILED',
        `Could not write the model into ${this.userDir}: ${(error as Error).message}`,
      );
    }
    this.scan();
    return this.summary(this.entry(name));
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.release();
  }
}
