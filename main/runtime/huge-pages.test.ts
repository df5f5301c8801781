import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HUGE_PAGE_TUNABLE, hasHugePageTunable, withHugePageTunable } from './huge-pages.ts';

describe('huge-page malloc tunable', () => {
  it('adds the tunable on Linux, keeping other tunables, and leaves other platforms and opt-outs alone', () => {
    expect(withHugePageTunable({ PATH: '/bin' }, 'linux')).toEqual({
      PATH: '/bin',
      GLIBC_TUNABLES: HUGE_PAGE_TUNABLE,
    });
    expect(withHugePageTunable({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux').GLIBC_TUNABLES).toBe(
      `glibc.malloc.arena_max=2:${HUGE_PAGE_TUNABLE}`,
    );
    const already = { GLIBC_TUNABLES: `${HUGE_PAGE_TUNABLE}:glibc.malloc.arena_max=2` };
    expect(withHugePageTunable(already, 'linux')).toBe(already);
    const mac = { PATH: '/bin' };
    expect(withHugePageTunable(mac, 'darwin')).toBe(mac);
    const optedOut = { VANTAGE_HUGE_PAGES: 'off' };
    expect(withHugePageTunable(optedOut, 'linux')).toBe(optedOut);
    expect(hasHugePageTunable({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=10' })).toBe(false);
  });

  it.runIf(process.platform === 'linux')(
    'an entry point re-executes itself once with the tunable: same pid, same arguments, exit code kept',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'vantage-huge-'));
      const script = join(dir, 'entry.ts');
      const module = pathToFileURL(join(import.meta.dirname, 'huge-pages.ts')).href;
      writeFileSync(
        script,
        `import { reexecWithHugePages } from ${JSON.stringify(module)};
const pidBefore = process.env.PID_BEFORE ?? String(process.pid);
process.env.PID_BEFORE = pidBefore;
reexecWithHugePages();
console.log(JSON.stringify({ pidBefore, pid: String(process.pid), tunables: process.env.GLIBC_TUNABLES ?? null, args: process.argv.slice(2) }));
process.exitCode = 7;
`,
      );
      const env = { ...process.env, GLIBC_TUNABLES: '', VANTAGE_HUGE_PAGES: '' };
      const run = spawnSync(process.execPath, [script, 'backtest', '--out', 'a b.json'], {
        env,
        encoding: 'utf8',
      });
      expect(run.status).toBe(7);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const seen = JSON.parse(lines[0]!) as {
        pidBefore: string;
        pid: string;
        tunables: string;
        args: string[];
      };
      expect(seen.pid).toBe(seen.pidBefore);
      expect(seen.tunables).toBe(HUGE_PAGE_TUNABLE);
      expect(seen.args).toEqual(['backtest', '--out', 'a b.json']);

      const off = spawnSync(process.execPath, [script], {
        env: { ...env, VANTAGE_HUGE_PAGES: 'off' },
        encoding: 'utf8',
      });
      expect((JSON.parse(off.stdout.trim()) as { tunables: string | null }).tunables).toBe('');
    },
  );
});
