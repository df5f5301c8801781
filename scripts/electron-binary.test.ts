import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isElectronInstallError,
  locateElectronBinary,
  missingElectronMessage,
  summarizeDownloadFailure,
} from './electron-binary.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-electron-bin-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Electron binary detection', () => {
  it('finds no binary before the first download', () => {
    expect(locateElectronBinary(dir, {})).toEqual({
      status: 'missing',
      reason: 'the Electron binary has not been downloaded yet',
    });
    expect(locateElectronBinary(join(dir, 'nope'), {}).status).toBe('missing');
  });

  it('finds no binary when path.txt points at a deleted dist', () => {
    writeFileSync(join(dir, 'path.txt'), 'electron');
    const found = locateElectronBinary(dir, {});
    expect(found.status).toBe('missing');
  });

  it('finds the downloaded binary, and honours ELECTRON_OVERRIDE_DIST_PATH', () => {
    writeFileSync(join(dir, 'path.txt'), 'electron');
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'electron'), '');
    expect(locateElectronBinary(dir, {})).toEqual({ status: 'ready', path: join(dir, 'dist', 'electron') });
    const override = join(dir, 'custom');
    mkdirSync(override);
    expect(locateElectronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: override }).status).toBe('missing');
    writeFileSync(join(override, 'electron'), '');
    expect(locateElectronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: override })).toEqual({
      status: 'ready',
      path: join(override, 'electron'),
    });
  });

  it("recognises the electron package's install failure", () => {
    expect(
      isElectronInstallError(
        new Error(
          'Electron failed to install correctly. Please delete `node_modules/electron` and run "npx install-electron --no" manually.',
        ),
      ),
    ).toBe(true);
    expect(isElectronInstallError(new Error('ENOENT'))).toBe(false);
    expect(isElectronInstallError('Electron failed to install correctly')).toBe(false);
  });

  it('reduces a failed download to one line, never a stack trace', () => {
    const stack =
      'RequestError: getaddrinfo ENOTFOUND github.com\n    at ClientRequest.<anonymous> (/x/got/index.js:1:1)\n    at emit (node:events:1:1)';
    expect(summarizeDownloadFailure(stack)).toBe('getaddrinfo ENOTFOUND github.com');
    expect(summarizeDownloadFailure('TypeError: fetch failed')).toBe(
      'could not reach the download server (fetch failed)',
    );
    expect(
      summarizeDownloadFailure('HTTPError: Response code 404 (Not Found) for https://x/electron.zip'),
    ).toMatch(/404/);
    expect(summarizeDownloadFailure('')).toBeNull();
  });

  it('the message explains the first-start download and offers vantage serve', () => {
    const message = missingElectronMessage('getaddrinfo ENOTFOUND github.com');
    expect(message).toContain('downloads its binary');
    expect(message).toContain('needs internet');
    expect(message).toContain('npm run vantage -- serve');
    expect(message).toContain('ENOTFOUND');
  });

  it('npm start without the binary and without network prints the explanation and exits 1 (no stack trace)', () => {
    const root = join(import.meta.dirname, '..');
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'start.ts'), '--skip-build'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      // A closed local port: the download fails at once and no traffic leaves the machine.
      // An empty override folder: no binary, even on a machine that has downloaded one.
      env: {
        ...process.env,
        ELECTRON_OVERRIDE_DIST_PATH: dir,
        ELECTRON_MIRROR: 'http://127.0.0.1:9/',
        electron_config_cache: join(dir, 'cache'),
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Electron's binary is not available");
    expect(result.stderr).toContain('npm run vantage -- serve');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
