/**
 * Transparent huge pages for the engine's big columns.
 *
 * A million bars is 8 MB per Float64Array column; feature matrices, equity curves and range
 * queries are tens to hundreds of MB of fresh memory, and Linux maps it lazily: the first write to
 * every 4 KiB page is a page fault. On a virtual machine (our CI and many laptops' VMs) that costs
 * ~12 us per page: first-touching 128 MB took ~400 ms in 4 KiB pages and ~20 ms in 2 MiB huge
 * pages on this project's build machine. Most distributions ship THP in `madvise` mode, where
 * memory gets huge pages only when the allocator asks; glibc's malloc (which backs Node's
 * ArrayBuffers) asks when the tunable `glibc.malloc.hugetlb=1` is set (glibc >= 2.35; older
 * glibc and other C libraries ignore it). Tunables are read at process start, so the hosts set it
 * for the processes they start (the Electron shell for the engine's utility process) and the
 * command-line entry points re-execute themselves once with it (process.execve: same pid, same
 * stdio, so signals and exit codes are untouched).
 *
 * VANTAGE_HUGE_PAGES=off leaves the environment alone (e.g. to compare, or where memory is tight:
 * a huge page can hold up to 2 MiB that a small allocation does not use).
 */

export const HUGE_PAGE_TUNABLE = 'glibc.malloc.hugetlb=1';
const OPT_OUT = 'VANTAGE_HUGE_PAGES';

type Env = Record<string, string | undefined>;

/** Whether the process environment `env` asks glibc for huge pages. */
export function hasHugePageTunable(env: Env): boolean {
  return (env.GLIBC_TUNABLES ?? '').split(':').includes(HUGE_PAGE_TUNABLE);
}

/**
 * `env` with the huge-page tunable added to GLIBC_TUNABLES (other tunables kept), on Linux unless
 * opted out; otherwise `env` itself.
 */
export function withHugePageTunable(env: Env, platform: string = process.platform): Env {
  if (platform !== 'linux' || env[OPT_OUT] === 'off' || hasHugePageTunable(env)) return env;
  const current = env.GLIBC_TUNABLES;
  return {
    ...env,
    GLIBC_TUNABLES: current ? `${current}:${HUGE_PAGE_TUNABLE}` : HUGE_PAGE_TUNABLE,
  };
}

/**
 * For a command-line entry point, before it loads anything big: re-executes this process with the
 * tunable when it is missing (Linux, process.execve available, not opted out). Returns only when
 * nothing needed doing or re-executing failed (the command then runs as it is, only slower).
 */
export function reexecWithHugePages(): void {
  const env = withHugePageTunable(process.env);
  if (env === process.env || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch {
    // execve failed (a sandbox forbidding it): carry on without huge pages.
  }
}
