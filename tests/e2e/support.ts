import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const OUTPUT_DIR = join(REPO_ROOT, 'test-output', 'e2e');
export const CHROMIUM_PATH = process.env.VANTAGE_CHROMIUM ?? '/usr/bin/chromium';
/** Built renderer to serve; defaults to `out/renderer` (what `npm run build:web` writes). */
const STATIC_DIR_ARGS = process.env.VANTAGE_E2E_STATIC_DIR
  ? ['--static-dir', process.env.VANTAGE_E2E_STATIC_DIR]
  : [];

export interface ServeHandle {
  url: string;
  port: number;
  token: string;
  dataDir: string;
  process: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `vantage serve` on a free port with its own temp data folder; resolves when it prints its URL. */
export async function startServe(
  options: { dataDir?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<ServeHandle> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vantage-e2e-'));
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(REPO_ROOT, 'main', 'cli', 'index.ts'),
      '--data-dir',
      dataDir,
      '--json',
      'serve',
      '--port',
      '0',
      ...STATIC_DIR_ARGS,
      ...(options.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VANTAGE_LOG_LEVEL: 'warn', ...options.env },
    },
  );
  let stderrText = '';
  child.stderr!.on('data', (d: Buffer) => (stderrText += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<{ url: string; port: number }>((resolveLine, reject) => {
    child.once('exit', (code) => reject(new Error(`vantage serve exited with ${code}: ${stderrText}`)));
    lines.once('line', (line) => {
      try {
        resolveLine(JSON.parse(line) as { url: string; port: number });
      } catch {
        reject(new Error(`unexpected first line from vantage serve: ${line}`));
      }
    });
  });
  const token = new URL(first.url).searchParams.get('token') ?? '';
  return {
    url: first.url,
    port: first.port,
    token,
    dataDir,
    process: child,
    stderr: () => stderrText,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
}

/** Opens the app and collects console errors (CSP violations appear there) and uncaught page errors. */
export async function openApp(
  browser: Browser,
  url: string,
): Promise<{ page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-app-ready="true"]', { timeout: 60_000 });
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const path = join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/**
 * One `vantage serve` (own temp data folder and port) and one Chromium for a describe block:
 * started before its tests, stopped after. `options` may be a function when it needs values that
 * exist only once other beforeAll hooks ran (e.g. a local venue's URL).
 */
export function useServeAndBrowser(
  options: Parameters<typeof startServe>[0] | (() => Parameters<typeof startServe>[0]) = {},
): { readonly serve: ServeHandle; readonly browser: Browser } {
  const handles = {} as { serve: ServeHandle; browser: Browser };
  beforeAll(async () => {
    handles.serve = await startServe(typeof options === 'function' ? options() : options);
    handles.browser = await launchBrowser();
  });
  afterAll(async () => {
    await handles.browser?.close();
    await handles.serve?.stop();
  });
  return handles;
}
