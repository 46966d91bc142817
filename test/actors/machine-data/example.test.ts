import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { launch, MemorySnapshotStore } from '../../../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-machine-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('examples/machine-data on its embedded outputs: averages per application window, alerts as .eml', async () => {
  const out = join(dir, 'in-process');
  Object.assign(process.env, {
    MACHINE_DATA_OUT: out,
    APP_WINDOW: '2',
    READINGS_PER_WINDOW: '300',
    PARTITIONS: '2',
  });
  const { default: app, config } = await import('../../../examples/machine-data/app.ts');
  expect(config).toMatchObject({ applicationWindowCount: 2, partitions: 2, readingsStream: undefined });
  const run = await launch(app, { store: new MemorySnapshotStore(), virtualTime: true, windows: 4 });
  await run.done;
  expect(readdirSync(join(out, 'averages')).filter((f) => f.endsWith('.jsonl'))).toEqual([
    'window-000000002.jsonl',
    'window-000000004.jsonl',
  ]);
  const averages = readFileSync(join(out, 'averages', 'window-000000002.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const records = averages.map((l) => JSON.parse(l));
  // 1,200 readings of a fleet of 50 devices: the key over all devices counts them all (in two records
  // when windows 1 and 2 started in different minutes: the minute is part of every key).
  const everyDevice = records.filter((r) => r.key.startsWith('*|'));
  expect(everyDevice.length).toBeGreaterThanOrEqual(1);
  expect(everyDevice.every((r) => r.window === 2)).toBe(true);
  expect(everyDevice.reduce((sum, r) => sum + r.count, 0)).toBe(1200);
  const mails = readdirSync(join(out, 'mailbox')).filter((f) => f.endsWith('.eml'));
  expect(mails.length).toBeGreaterThan(0);
  // Hot device 7: its own key alerts on cpu.
  const hot = records.find((r) => /^device=7\|/.test(r.key));
  expect(hot.cpu).toBeGreaterThan(70);
  expect(
    mails.some((m) => readFileSync(join(out, 'mailbox', m), 'utf8').includes('X-Sluice-Key: device=7|')),
  ).toBe(true);
});

test('npm start runs the demo script: a progress line, then the alerts it wrote', async () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  expect(pkg.scripts.start).toContain('examples/machine-data/start.ts --demo');
  const out = join(dir, 'start');
  const args = [
    '--conditions=sluice-source',
    '--import',
    'tsx',
    'examples/machine-data/start.ts',
    '--demo',
    '12',
  ];
  const child = spawn(process.execPath, [...args, join(dir, 'store')], {
    env: {
      ...process.env,
      MACHINE_DATA_OUT: out,
      WINDOW_MS: '150',
      APP_WINDOW: '3',
      READINGS_PER_WINDOW: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(0);
  expect(stderr).toMatch(/^machine-data: generator, 2 partitions → 64 dimensions/m);
  expect(stderr).toMatch(
    /^window \d+ · in [\d,]+ readings\/s · out [\d,]+ records\/s · committed \d+ · alerts [\d,]+/m,
  );
  expect(stderr).toMatch(/^stopped after window 12, committed 12$/m);
  expect(stderr).toMatch(
    /^\d+ alert messages in .*mailbox\/, e\.g\. "\[machine-data\] cpu [\d.]+% above 70%: /m,
  );
}, 60_000);
