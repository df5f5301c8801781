import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import rendererConfig from './renderer/vite.config.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const here = (path: string): string => resolve(root, path);

// Engine code starts worker_threads with `new Worker(new URL('./x-thread.ts', import.meta.url))`.
// In the bundle every main-side entry lands flat in out/main/, so each such module becomes an
// entry of its own and the URL is rewritten to its built name ('./x-thread.js').
const WORKER_URL = /new URL\(\s*['"]\.\/([\w-]+)\.ts['"]\s*,\s*import\.meta\.url\s*\)/g;

function findWorkerEntries(directory: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const item of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, item.name);
      if (item.isDirectory()) walk(path);
      else if (item.name.endsWith('.ts') && !item.name.endsWith('.test.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(WORKER_URL)) {
          const name = match[1]!;
          const target = join(dirname(path), `${name}.ts`);
          if (entries[name] && entries[name] !== target) {
            throw new Error(
              `Two worker modules are named ${name} (${relative(root, entries[name])}, ${relative(root, target)}); rename one.`,
            );
          }
          entries[name] = target;
        }
      }
    }
  };
  walk(directory);
  return entries;
}

function workerUrls(): Plugin {
  return {
    name: 'vantage-worker-urls',
    transform(code, id) {
      if (!id.startsWith(here('main')) || !id.endsWith('.ts') || !WORKER_URL.test(code)) return null;
      WORKER_URL.lastIndex = 0;
      return {
        code: code.replace(
          WORKER_URL,
          (_all, name: string) => `new URL('./${basename(name)}.js', import.meta.url)`,
        ),
        map: null,
      };
    },
  };
}

/**
 * The desktop build. Entries are explicit (electron-vite's defaults assume src/):
 * - main: the Electron main process, the engine's utility process and the engine's worker threads
 *   (ESM: package.json has "type": "module"); npm dependencies stay external (native
 *   onnxruntime-node, ccxt, pino's worker transports) and ship in node_modules.
 * - preload: CommonJS and fully bundled, because a sandboxed preload cannot load ESM or node_modules.
 * - renderer: renderer/vite.config.ts (the same build `vantage serve` uses), entry explicit.
 */
export default defineConfig({
  main: {
    plugins: [workerUrls()],
    build: {
      outDir: here('out/main'),
      externalizeDeps: true,
      sourcemap: true,
      rollupOptions: {
        input: {
          index: here('main/electron/index.ts'),
          'engine-entry': here('main/electron/engine-entry.ts'),
          ...findWorkerEntries(here('main/core')),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: here('out/preload'),
      // Bundle zod and the contract into the one preload file: a sandboxed preload can require only 'electron'.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: here('preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    ...rendererConfig,
    build: {
      ...rendererConfig.build,
      rollupOptions: { input: { index: here('renderer/index.html') } },
    },
  },
});
