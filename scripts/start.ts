// `npm start`: builds the desktop app with electron-vite, then runs it with Electron.
// When Electron's binary cannot be fetched (first start offline) it says so in plain words and
// points to `npm run vantage -- serve`, instead of a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isElectronInstallError,
  locateElectronBinary,
  missingElectronMessage,
  summarizeDownloadFailure,
} from './electron-binary.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const isSkippingBuild = args.includes('--skip-build');

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let electronDir: string;
try {
  electronDir = dirname(require.resolve('electron/package.json'));
} catch {
  fail(missingElectronMessage('the electron package is not installed; run `npm ci` first'));
}

if (!isSkippingBuild) {
  const build = spawnSync(
    process.execPath,
    [require.resolve('electron-vite/bin/electron-vite.js'), 'build'],
    { cwd: root, stdio: 'inherit' },
  );
  if (build.status !== 0) fail('The build failed (see above); Electron was not started.');
}

let binary = locateElectronBinary(electronDir);
if (binary.status === 'missing') {
  process.stderr.write("Downloading Electron's binary (first start only; needs internet)...\n");
  // The package's install script, with its output captured: on failure it prints a stack trace.
  const download = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
    cwd: electronDir,
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (download.status !== 0) {
    fail(
      missingElectronMessage(
        summarizeDownloadFailure(`${download.stderr ?? ''}\n${download.stdout ?? ''}`) ?? binary.reason,
      ),
    );
  }
  binary = locateElectronBinary(electronDir);
}

let electronPath: string;
try {
  // The package's own resolution (same result when the binary is present; throws if it is not).
  electronPath = binary.status === 'ready' ? binary.path : (require('electron') as string);
} catch (err) {
  if (isElectronInstallError(err))
    fail(missingElectronMessage(binary.status === 'missing' ? binary.reason : null));
  throw err;
}

const child = spawn(electronPath, [root, ...args.filter((a) => a !== '--skip-build')], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('error', (err) => fail(missingElectronMessage(`Electron could not be run: ${err.message}`)));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
