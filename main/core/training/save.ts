import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appError } from '../../../shared/errors.ts';

/**
 * Writes <name>.onnx and <name>.card.json into outDir: both go to temporary names first and are
 * renamed only when both are written, so a failed run never leaves a model without its card.
 */
export function saveModelFiles(
  outDir: string,
  name: string,
  onnx: Uint8Array,
  cardText: string,
): { onnxPath: string; cardPath: string } {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw appError('TRAINING_FAILED', `Cannot create ${outDir}: ${(error as Error).message}`);
  }
  const onnxPath = join(outDir, `${name}.onnx`);
  const cardPath = join(outDir, `${name}.card.json`);
  const tmpOnnx = join(outDir, `.${name}.onnx.partial`);
  const tmpCard = join(outDir, `.${name}.card.json.partial`);
  try {
    writeFileSync(tmpOnnx, onnx);
    writeFileSync(tmpCard, cardText);
    renameSync(tmpOnnx, onnxPath);
    renameSync(tmpCard, cardPath);
  } catch (error) {
    rmSync(tmpOnnx, { force: true });
    rmSync(tmpCard, { force: true });
    throw appError('TRAINING_FAILED', `Cannot write the model to ${outDir}: ${(error as Error).message}`);
  }
  return { onnxPath, cardPath };
}
