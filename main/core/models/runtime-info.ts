import * as ort from 'onnxruntime-node';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';

/** The CUDA provider is a separate library that `npm run setup:cuda` downloads next to the binding. */
function hasCudaLibrary(): boolean {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const binRoot = join(root, 'bin');
    for (const napi of readdirSync(binRoot)) {
      if (existsSync(join(binRoot, napi, 'linux', process.arch, 'libonnxruntime_providers_cuda.so')))
        return true;
    }
  } catch {
    return false;
  }
  return false;
}

export interface ProviderStatus {
  name: string;
  available: boolean;
  reason: string;
}

export interface RuntimeInfo {
  version: string;
  activeProvider: string;
  providers: ProviderStatus[];
}

/** Execution providers in the order Vantage tries them. */
const PREFERENCE: { name: string; platform: NodeJS.Platform | 'any'; backend: string }[] = [
  { name: 'cuda', platform: 'linux', backend: 'cuda' },
  { name: 'dml', platform: 'win32', backend: 'dml' },
  { name: 'coreml', platform: 'darwin', backend: 'coreml' },
  { name: 'cpu', platform: 'any', backend: 'cpu' },
];

/**
 * Which execution providers this build of onnxruntime-node can use here, and why others are skipped.
 * `forceCpu` is the user's setting to ignore GPUs.
 */
export function describeRuntime(
  options: { forceCpu?: boolean; platform?: NodeJS.Platform } = {},
): RuntimeInfo {
  const platform = options.platform ?? process.platform;
  const supported = new Set(ort.listSupportedBackends().map((b) => b.name));
  const providers: ProviderStatus[] = PREFERENCE.map((p) => {
    if (p.platform !== 'any' && p.platform !== platform) {
      return { name: p.name, available: false, reason: `only on ${p.platform}` };
    }
    if (!supported.has(p.backend) || (p.name === 'cuda' && !hasCudaLibrary())) {
      return {
        name: p.name,
        available: false,
        reason:
          p.name === 'cuda'
            ? 'CUDA provider binaries not installed (run `npm run setup:cuda` on a Linux machine with an NVIDIA GPU)'
            : 'not in this onnxruntime-node build',
      };
    }
    if (options.forceCpu && p.name !== 'cpu')
      return { name: p.name, available: false, reason: 'disabled by the force-CPU setting' };
    return { name: p.name, available: true, reason: 'available' };
  });
  const active = providers.find((p) => p.available)?.name ?? 'none';
  return { version: ort.env.versions.node ?? ort.env.versions.common, activeProvider: active, providers };
}
