import type { Command } from 'commander';
import { appVersion, globalOptions, printJson, resourcesDir } from '../context.ts';
import { startEngine } from '../../runtime/engine-runtime.ts';
import type { EngineStatus } from '../../../shared/contract/engine.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'Start the engine on the data folder, print its status (versions, databases, execution providers) and stop.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const { engine } = await startEngine({
        dataDir,
        resourcesDir: resourcesDir(),
        version: appVersion(),
        isLogging: false,
      });
      const status = engine.status();
      await engine.stop();
      if (json) printJson(status);
      else process.stdout.write(formatStatus(status));
      if (status.state !== 'ready') process.exitCode = 1;
    });
}

export function formatStatus(s: EngineStatus): string {
  const lines = [
    `Vantage ${s.version}  engine ${s.state}  mode ${s.mode}  trading ${s.tradingEnabled ? 'enabled' : 'DISABLED'}`,
    `Data folder   ${s.dataDir}`,
    `Node          ${s.nodeVersion} (${s.platform}/${s.arch})`,
    `ONNX Runtime  ${s.onnxRuntime.version}, active provider: ${s.onnxRuntime.activeProvider}`,
    ...s.onnxRuntime.providers.map((p) => `  ${p.available ? '+' : '-'} ${p.name.padEnd(7)} ${p.reason}`),
    'Databases',
    ...s.databases.map(
      (d) =>
        `  ${d.name.padEnd(10)} schema ${d.schemaVersion}/${d.latestSchemaVersion}  ${d.journalMode}/${d.synchronous}  integrity ${d.integrity}  ${d.path}` +
        (d.message ? `\n    ${d.message}` : ''),
    ),
  ];
  if (s.problems.length > 0) lines.push('Problems', ...s.problems.map((p) => `  [${p.code}] ${p.message}`));
  return `${lines.join('\n')}\n`;
}
