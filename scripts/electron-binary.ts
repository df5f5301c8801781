// How `npm start` finds Electron's binary, and what it says when there is none.
// The npm package `electron` is only a launcher: its binary is downloaded on first use.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ElectronBinary = { status: 'ready'; path: string } | { status: 'missing'; reason: string };

/**
 * Where the electron package keeps its binary: path.txt names the executable inside dist/
 * (ELECTRON_OVERRIDE_DIST_PATH replaces dist/). Mirrors the package's own index.js, without its
 * side effect (index.js starts a download when the binary is missing, and throws if that fails).
 */
export function locateElectronBinary(
  packageDir: string,
  env: NodeJS.ProcessEnv = process.env,
): ElectronBinary {
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(packageDir))
    return { status: 'missing', reason: `the electron package is not installed (${packageDir})` };
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const overrideDir = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (overrideDir) {
    const path = join(overrideDir, relative || 'electron');
    return existsSync(path)
      ? { status: 'ready', path }
      : {
          status: 'missing',
          reason: `ELECTRON_OVERRIDE_DIST_PATH has no ${relative || 'electron'} (${path})`,
        };
  }
  if (!relative) return { status: 'missing', reason: 'the Electron binary has not been downloaded yet' };
  const path = join(packageDir, 'dist', relative);
  return existsSync(path)
    ? { status: 'ready', path }
    : { status: 'missing', reason: `the Electron binary is missing (${path})` };
}

/** The electron package's own failure when its binary could not be fetched. */
export function isElectronInstallError(error: unknown): boolean {
  return error instanceof Error && /Electron failed to install correctly/i.test(error.message);
}

/** The one line of a failed download's output that says why (no stack trace). */
export function summarizeDownloadFailure(output: string): string | null {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^at\s/.test(l));
  const telling = lines.find((l) =>
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|certificate|HTTPError|status code|\b4\d\d\b|\b5\d\d\b|checksum|EACCES|ENOSPC/i.test(
      l,
    ),
  );
  // Node's fetch reports any network failure (offline, DNS, refused) as just "fetch failed".
  if (!telling && lines.some((l) => /fetch failed/i.test(l)))
    return 'could not reach the download server (fetch failed)';
  const line = telling ?? lines.find((l) => /error/i.test(l)) ?? null;
  return line ? line.replace(/^(Error|RequestError|HTTPError):\s*/, '').slice(0, 240) : null;
}

export function missingElectronMessage(reason: string | null): string {
  return [
    "Vantage could not start: Electron's binary is not available.",
    reason ? `  Why: ${reason}` : null,
    '',
    'The electron npm package downloads its binary (about 100 MB, from GitHub or ELECTRON_MIRROR)',
    'the first time the app starts, so the first `npm start` needs internet access.',
    '',
    'What you can do:',
    '  - connect to the internet and run `npm start` again, or',
    '  - run the same app in your browser, no Electron needed: `npm run vantage -- serve`',
    '    (it prints a local URL with an access token; open it in Chrome, Edge or Firefox).',
  ]
    .filter((l) => l !== null)
    .join('\n');
}
