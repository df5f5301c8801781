import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { runCliProcess } from '../test-support/run-cli.ts';

let dir: string;
let dataDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-data-cli-'));
  dataDir = join(dir, 'data');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): ReturnType<typeof runCliProcess> {
  return runCliProcess(['--data-dir', dataDir, ...args]);
}

describe('vantage data (CLI)', () => {
  it('reports every bad row as file:line: reason, exits 1 and stores nothing', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      'timestamp,open,high,low,close,volume\n1700000040000,10,11,9,10,1\n1700000100000,10,9,8,10.5,1\n1700000160000,10,11,9,10,-2\n',
    );
    const result = await cli(
      'data',
      'import',
      '--file',
      file,
      '--venue',
      'v',
      '--symbol',
      'S',
      '--timeframe',
      '1m',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:3: high 9 is below max(open 10, close 10.5)`);
    expect(result.stderr).toContain(`${file}:4: volume -2 is negative`);
    expect(result.stderr).toMatch(/2 bad row\(s\); nothing was imported/);
    const list = await cli('--json', 'data', 'list');
    expect(JSON.parse(list.stdout)).toEqual({ series: [] });
  });

  it('rejects a bad timeframe as a usage error', async () => {
    const result = await cli(
      'data',
      'import',
      '--file',
      'x.csv',
      '--venue',
      'v',
      '--symbol',
      'S',
      '--timeframe',
      '7m',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--timeframe must be one of 1m, 5m, 15m, 1h, 4h, 1d/);
  });

  it('says so when the file does not exist', async () => {
    const result = await cli(
      'data',
      'import',
      '--file',
      join(dir, 'missing.csv'),
      '--venue',
      'v',
      '--symbol',
      'S',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no such file/);
  });
});

describeWithData('vantage data on real files (CLI)', () => {
  it('imports Binance 5m JSON, lists it, finds its 6 outages, and a re-import changes nothing', async () => {
    const file = testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json');
    const first = await cli(
      '--json',
      'data',
      'import',
      '--file',
      file,
      '--venue',
      'binance',
      '--symbol',
      'BTC/USDT',
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ timeframe: '5m', barCount: 65_741, inserted: 65_741 });
    const again = await cli('data', 'import', '--file', file, '--venue', 'binance', '--symbol', 'BTC/USDT');
    expect(again.stdout).toMatch(
      /65741 bars 2020-12-01 00:00Z \.\. 2021-07-17 21:05Z; 0 new, 0 changed, 65741 already stored/,
    );
    const list = await cli('data', 'list');
    expect(list.stdout).toMatch(/binance\s+BTC\/USDT\s+5m\s+2020-12-01 00:00Z\s+2021-07-17 21:05Z\s+65741/);
    const gaps = await cli('--json', 'data', 'gaps', '--symbol', 'BTC/USDT');
    const parsed = JSON.parse(gaps.stdout) as { series: { gapCount: number; gaps: { fromMs: number }[] }[] };
    expect(parsed.series[0]!.gapCount).toBe(6);
    expect(parsed.series[0]!.gaps[0]!.fromMs).toBe(Date.UTC(2020, 11, 21, 14, 10));
  });

  it('exports a stored series to CSV and JSON that import back to the same bars', async () => {
    await cli(
      'data',
      'import',
      '--file',
      testDataPath('backtrader', 'orcl-1995-2014.txt'),
      '--venue',
      'yahoo',
      '--symbol',
      'ORCL',
    );
    const csv = join(dir, 'out', 'orcl.csv');
    const json = join(dir, 'out', 'orcl.json');
    const exported = await cli(
      'data',
      'export',
      '--venue',
      'yahoo',
      '--symbol',
      'ORCL',
      '--timeframe',
      '1d',
      '--out',
      csv,
    );
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/Wrote 5036 bars/);
    expect(readFileSync(csv, 'utf8').split('\n')[1]).toBe(
      `${Date.UTC(1995, 0, 3)},2.179012,2.191358,2.117284,2.117284,36301200`,
    );
    await cli(
      'data',
      'export',
      '--venue',
      'yahoo',
      '--symbol',
      'ORCL',
      '--timeframe',
      '1d',
      '--out',
      json,
      '--from',
      '2014-01-01',
    );
    const rows = JSON.parse(readFileSync(json, 'utf8')) as number[][];
    expect(rows[0]![0]).toBe(Date.UTC(2014, 0, 2));
    expect(rows.at(-1)![0]).toBe(Date.UTC(2014, 11, 31));
    const back = await cli('--json', 'data', 'import', '--file', csv, '--venue', 'yahoo', '--symbol', 'ORCL');
    expect(JSON.parse(back.stdout)).toMatchObject({
      barCount: 5036,
      inserted: 0,
      updated: 0,
      unchanged: 5036,
    });
    const missing = await cli(
      'data',
      'export',
      '--venue',
      'yahoo',
      '--symbol',
      'NOPE',
      '--timeframe',
      '1d',
      '--out',
      csv,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No stored series yahoo NOPE 1d/);
  });

  it('imports the FTX 1m CSV with its text timestamps', async () => {
    const result = await cli(
      'data',
      'import',
      '--file',
      testDataPath('crypto', 'nautilus_trader', 'btc-perp-20211231-20220201_1m.csv'),
      '--venue',
      'ftx',
      '--symbol',
      'BTC-PERP',
      '--format',
      'csv',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/45031 bars 2021-12-31 23:01Z \.\. 2022-02-01 05:31Z/);
    const gaps = await cli('data', 'gaps', '--venue', 'ftx');
    expect(gaps.stdout).toMatch(/ftx BTC-PERP 1m: 0 gap\(s\), 0 missing bar\(s\) in 45031 bars/);
  });
});
