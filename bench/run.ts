// `npm run bench -- [name ...] [--json]`: runs all or the named benchmarks (bench/*.bench.ts),
// prints their figures and writes bench/results.json (machine, Node version, every figure with unit and target).
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasHugePageTunable, reexecWithHugePages } from '../main/runtime/huge-pages.ts';
import type { Benchmark, Figure } from './types.ts';

// The benchmarks measure what the CLI and the app's engine run: with transparent huge pages for
// big columns (main/runtime/huge-pages.ts); VANTAGE_HUGE_PAGES=off measures without them.
reexecWithHugePages();

const args = process.argv.slice(2);
const isJson = args.includes('--json');
const names = args.filter((a) => !a.startsWith('--'));
const benchDir = import.meta.dirname;

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const benchmarks: Benchmark[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(benchDir, file)).href)) as { benchmark?: Benchmark };
  if (mod.benchmark) benchmarks.push(mod.benchmark);
}
const available = benchmarks.map((b) => b.name);
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${available.join(', ')}`);
  process.exit(2);
}
const selected = names.length > 0 ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;

const cpu = cpus();
const results = {
  createdAt: new Date().toISOString(),
  machine: {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()} ${arch()}`,
    /** glibc asked for transparent huge pages (main/runtime/huge-pages.ts). */
    hugePageMalloc: hasHugePageTunable(process.env),
  },
  node: process.versions.node,
  benchmarks: [] as {
    name: string;
    description: string;
    durationMs: number;
    figures: Figure[];
    error?: string;
  }[],
};

let hasFailure = false;
if (!isJson)
  console.log(
    `${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.node}; huge-page malloc ${results.machine.hugePageMalloc ? 'on' : 'off'}`,
  );
for (const bench of selected) {
  if (!isJson) console.log(`\n== ${bench.name}: ${bench.description}`);
  const started = performance.now();
  try {
    const figures = await bench.run();
    const durationMs = Math.round(performance.now() - started);
    results.benchmarks.push({ name: bench.name, description: bench.description, durationMs, figures });
    if (!isJson) {
      for (const f of figures) {
        const verdict = f.isMet === undefined ? '' : f.isMet ? '  [met]' : '  [NOT MET]';
        console.log(
          `  ${f.name.padEnd(58)} ${formatValue(f.value).padStart(14)} ${f.unit.padEnd(10)} ${f.target ? `target ${f.target}` : ''}${verdict}${f.note ? `  (${f.note})` : ''}`,
        );
      }
    }
  } catch (err) {
    hasFailure = true;
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    results.benchmarks.push({
      name: bench.name,
      description: bench.description,
      durationMs: 0,
      figures: [],
      error: message,
    });
    console.error(`  ${bench.name} failed: ${message}`);
  }
}

writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
if (isJson) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else console.log(`\nWrote ${join(benchDir, 'results.json')}`);
process.exitCode = hasFailure ? 1 : 0;
// A benchmark that failed half-way may have left a handle open (a child process, a socket, a
// timer); the run is over once the figures are written, so exit when stdout has drained.
process.stdout.write('', () => process.exit());

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(4);
}
