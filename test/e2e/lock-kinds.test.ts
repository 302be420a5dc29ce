import { describe, expect, it } from 'vitest';
import { cliAsync, tempDir } from '../helpers/cli.js';

// What only processes show, on every store: processes racing for a resource's slots, for a pattern and a
// path it covers, and for shared and exclusive locks, never hold more than the rules allow. The in-process
// suite is test/unit/lock-kinds-stores.test.ts.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;
let counter = 0;
const STORES = [
  { name: 'file', fresh: (): string[] => [] },
  { name: 'postgres', fresh: (): string[] => ['--store', PG_URL ?? '', '--namespace', `race-kinds-${process.pid}-${Date.now()}-${counter++}`] },
];

describe.each(STORES)('racing processes on the $name store', (store) => {
  const enabled = store.name === 'file' || Boolean(PG_URL);

  it.skipIf(!enabled)('six processes locking @gpu --slots 2 at once: exactly two are granted', async () => {
    const g = store.fresh();
    const ws = tempDir();
    const race = await Promise.all(Array.from({ length: 6 }, (_, i) => cliAsync([...g, 'lock', '@gpu', '--slots', '2', '--agent', String(i + 1), '--ttl', '1h'], { cwd: ws })));
    for (const r of race) expect([0, 1], r.stderr).toContain(r.code);
    expect(race.filter((r) => r.code === 0)).toHaveLength(2);
    const holders = JSON.parse((await cliAsync([...g, '--json', 'holder', '@gpu'], { cwd: ws })).stdout);
    expect(holders[0].holders).toHaveLength(2);
  });

  it.skipIf(!enabled)('a pattern and paths it covers, locked at once by different processes: one side only', async () => {
    // A few rounds, each on an empty registry: one round may see the processes one after another.
    for (let round = 0; round < 3; round++) {
      const g = store.fresh();
      const ws = tempDir();
      const keys = ['src/**/*.test.ts', 'src/a/b.test.ts', 'src/', 'src/c/d.test.ts', '**/*.ts'];
      const race = await Promise.all(keys.map((key, i) => cliAsync([...g, 'lock', key, '--agent', String(i + 1), '--ttl', '1h'], { cwd: ws })));
      for (const r of race) expect([0, 1], r.stderr).toContain(r.code);
      const granted = keys.filter((_, i) => race[i]?.code === 0);
      // Every two of these keys overlap but src/a/b.test.ts and src/c/d.test.ts.
      const compatible = (a: string, b: string) => [a, b].sort().join(' ') === 'src/a/b.test.ts src/c/d.test.ts';
      expect(granted.length).toBeGreaterThanOrEqual(1);
      for (const a of granted) for (const b of granted) if (a !== b) expect(compatible(a, b), `${a} and ${b} were both granted`).toBe(true);
    }
  });

  it.skipIf(!enabled)('shared and exclusive locks racing on one path: never an exclusive holder beside another holder', async () => {
    const g = store.fresh();
    const ws = tempDir();
    const asks = [['--shared'], ['--shared'], [], ['--shared'], []];
    const race = await Promise.all(asks.map((extra, i) => cliAsync([...g, 'lock', 'docs/x.md', ...extra, '--agent', String(i + 1), '--ttl', '1h'], { cwd: ws })));
    for (const r of race) expect([0, 1], r.stderr).toContain(r.code);
    const granted = asks.filter((_, i) => race[i]?.code === 0);
    const exclusive = granted.filter((extra) => extra.length === 0).length;
    expect(exclusive === 0 ? granted.length >= 1 : granted.length === 1).toBe(true);
  });
});
