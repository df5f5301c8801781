import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appVersion, CliError, EXIT_USAGE, globalOptions, REPO_ROOT, resourcesDir } from '../context.ts';
import { startEngine } from '../../runtime/engine-runtime.ts';
import { startWebHost } from '../../server/web-host.ts';
import { SystemScheduler } from '../../runtime/system-clock.ts';
import { closeLogger } from '../../core/telemetry/logger.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the engine and the app UI in a browser: HTTP + WebSocket on 127.0.0.1 with a random token.',
    )
    .option('--port <port>', 'TCP port (0 = any free port)', '0')
    .option('--host <host>', 'loopback address to bind (127.0.0.1, localhost or ::1)', '127.0.0.1')
    .option('--static-dir <dir>', 'built renderer folder', join(REPO_ROOT, 'out', 'renderer'))
    .option('--seed <n>', 'demo venue seed (same seed, same market)', '20261125')
    .action(async (opts: { port: string; host: string; staticDir: string; seed: string }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be 0..65535 (got ${opts.port})`, EXIT_USAGE);
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed))
        throw new CliError(`--seed must be an integer (got ${opts.seed})`, EXIT_USAGE);
      if (!existsSync(join(opts.staticDir, 'index.html'))) {
        throw new CliError(
          `The renderer is not built (${opts.staticDir}/index.html missing). Run \`npm run build:web\` first.`,
        );
      }
      const { engine, logger } = await startEngine({
        dataDir,
        resourcesDir: resourcesDir(),
        version: appVersion(),
        seed,
        moduleOptions: { demoSeed: seed },
      });
      const web = await startWebHost({
        dispatcher: engine.dispatcher,
        bus: engine.bus,
        scheduler: new SystemScheduler(),
        staticDir: opts.staticDir,
        host: opts.host,
        port,
        logger,
      });
      if (json) process.stdout.write(`${JSON.stringify({ url: web.url, port: web.port, dataDir })}\n`);
      else
        process.stdout.write(
          `Vantage is serving on ${web.url}\nData folder: ${dataDir}\nPress Ctrl-C to stop.\n`,
        );
      await new Promise<void>((resolveStop) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolveStop();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await web.close();
      await engine.stop();
      await closeLogger(logger);
      if (!json) process.stdout.write('Stopped.\n');
    });
}
