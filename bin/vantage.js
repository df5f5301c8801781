#!/usr/bin/env node
// The `vantage` command. Runs the TypeScript CLI directly on Node 24 (type stripping); see README.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'main', 'cli', 'index.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  // The project pins Node 24 as a devDependency; prefer it over an older system Node.
  const local = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'node');
  const r = spawnSync(local, ['--disable-warning=ExperimentalWarning', entry, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (r.error) {
    console.error(
      `vantage needs Node 24 or newer (found ${process.versions.node}); run \`npm install\` in the project first.`,
    );
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
await import(entry);
