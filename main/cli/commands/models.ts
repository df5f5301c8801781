import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT_USAGE, globalOptions, printJson, resourcesDir } from '../context.ts';
import { MAX_MODEL_BYTES, ModelRegistry, type ModelSummary } from '../../core/models/registry.ts';
import { MAX_CARD_BYTES } from '../../core/models/card.ts';

function readInput(path: string, what: string, limit: number): Buffer {
  const full = resolve(path);
  if (!existsSync(full)) throw new CliError(`${what} not found: ${full}`, EXIT_USAGE);
  const size = statSync(full).size;
  if (size > limit) throw new CliError(`${what} ${full} is ${size} bytes; the limit is ${limit}.`);
  return readFileSync(full);
}

function row(m: ModelSummary): string {
  const status = m.status === 'invalid' ? `INVALID: ${m.error?.message ?? ''}` : m.status;
  return `${m.name.padEnd(24)} ${m.version.padEnd(8)} ${(m.sha256 || '-').slice(0, 16).padEnd(16)} ${(m.provider ?? '-').padEnd(7)} ${m.source.padEnd(8)} ${status}`;
}

function brief(m: ModelSummary): Record<string, unknown> {
  return {
    name: m.name,
    version: m.version,
    sha256: m.sha256,
    source: m.source,
    provider: m.provider,
    providerNotes: m.providerNotes,
    placement: m.placement,
    status: m.status,
    error: m.error,
    layout: m.layout,
    features: m.features,
  };
}

export function register(program: Command): void {
  const models = program
    .command('models')
    .description('Local ONNX models: list, import and verify (bundled models and those in the data folder).');

  models
    .command('list')
    .description(
      'List models with version, sha256, execution provider and status (each valid model is loaded once to check it and pick its provider).',
    )
    .option(
      '--force-cpu',
      'use the CPU provider even where a GPU provider is available (also VANTAGE_FORCE_CPU=1)',
    )
    .action(async (opts: { forceCpu?: boolean }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const registry = new ModelRegistry({
        resourcesDir: resourcesDir(),
        dataDir,
        forceCpu: opts.forceCpu === true,
      });
      try {
        for (const m of registry.list()) {
          if (m.status === 'invalid') continue;
          await registry.load(m.name).catch(() => undefined); // the failure is kept on the entry and shown
        }
        const list = registry.list();
        if (json) printJson({ models: list.map(brief) });
        else {
          process.stdout.write(
            `${'NAME'.padEnd(24)} ${'VERSION'.padEnd(8)} ${'SHA256'.padEnd(16)} ${'PROVIDER'.padEnd(7)} ${'SOURCE'.padEnd(8)} STATUS\n`,
          );
          for (const m of list) process.stdout.write(`${row(m)}\n`);
          if (list.length === 0) process.stdout.write('(no models)\n');
        }
        if (list.some((m) => m.status === 'invalid')) process.exitCode = 1;
      } finally {
        await registry.close();
      }
    });

  models
    .command('import')
    .description(
      'Validate an ONNX model against its card (sha256, inputs/outputs, features) and copy both into <data-dir>/models.',
    )
    .argument('<file.onnx>', 'the ONNX model file')
    .requiredOption('--card <card.json>', 'the model card (JSON) describing the file')
    .action(async (file: string, opts: { card: string }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const bytes = readInput(file, 'Model file', MAX_MODEL_BYTES);
      const cardText = readInput(opts.card, 'Card', MAX_CARD_BYTES).toString('utf8');
      const registry = new ModelRegistry({ resourcesDir: resourcesDir(), dataDir });
      try {
        const m = await registry.importModel(
          new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
          cardText,
        );
        if (json) printJson(brief(m));
        else
          process.stdout.write(
            `Imported ${m.name} ${m.version} (sha256 ${m.sha256}) into ${dataDir}/models\n`,
          );
      } finally {
        await registry.close();
      }
    });

  models
    .command('verify')
    .description(
      'Re-check a model on disk: sha256 against the card, card fields, ONNX inputs/outputs, features. Exit 1 when invalid.',
    )
    .argument('<name>', 'model name (see `vantage models list`)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const registry = new ModelRegistry({ resourcesDir: resourcesDir(), dataDir });
      try {
        const result = await registry.verify(name);
        if (json) printJson({ ...brief(result), ok: result.ok });
        else if (result.ok)
          process.stdout.write(`${name}: OK (sha256 ${result.sha256}, card and ONNX signature match)\n`);
        else {
          const field = (result.error?.details as { field?: string } | undefined)?.field;
          process.stdout.write(
            `${name}: INVALID${field ? ` at ${field}` : ''}: ${result.error?.message ?? ''}\n`,
          );
        }
        if (!result.ok) process.exitCode = 1;
      } finally {
        await registry.close();
      }
    });
}
