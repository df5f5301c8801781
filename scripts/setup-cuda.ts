// Installs ONNX Runtime's CUDA execution provider for Linux users with an NVIDIA GPU.
// `npm install` skips it (see .npmrc): the binaries are large and come from outside the npm registry.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (process.platform !== 'linux') {
  console.error(
    'setup:cuda is for Linux. On Windows Vantage uses DirectML and on macOS CoreML, both bundled.',
  );
  process.exit(2);
}
const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
const result = spawnSync(process.execPath, [join(root, 'script', 'install.js')], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' },
});
if (result.status !== 0) {
  console.error(
    'Installing the CUDA provider failed (see above). It needs internet access, an NVIDIA driver and CUDA 12 with cuDNN 9.',
  );
  process.exit(1);
}
console.log('CUDA provider installed. `vantage status` should now list cuda as available.');
