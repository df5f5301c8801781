import cliProgress from 'cli-progress';
import { isInteractive } from './context.ts';

export interface Progress {
  update(done: number, total?: number, detail?: string): void;
  stop(): void;
}

/** A progress bar on stderr when it is a TTY; silent otherwise (pipes and CI get clean output). */
export function createProgress(label: string, total: number): Progress {
  if (!isInteractive()) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} {detail}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  return {
    update(done, newTotal, detail) {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(done, { detail: detail ?? '' });
    },
    stop() {
      bar.stop();
    },
  };
}
