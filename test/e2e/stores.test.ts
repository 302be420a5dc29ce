import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliAsync, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// What only processes show, on every store: the state file, and PostgreSQL when HARN_TEST_POSTGRES_URL points
// at a server (.ci/run starts one and sets it): processes racing each other. The behavioural suite itself
// runs in-process in test/unit/stores.test.ts.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;
if (!PG_URL) console.warn('[harn-agents] HARN_TEST_POSTGRES_URL is not set: the PostgreSQL store suite is skipped');

let namespaceCounter = 0;
interface StoreUnderTest {
  readonly name: string;
  /** Global arguments for a fresh, empty registry. */
  fresh(): string[];
}
const STORES: StoreUnderTest[] = [
  { name: 'file', fresh: () => [] },
  { name: 'postgres', fresh: () => ['--store', PG_URL ?? '', '--namespace', `test-${process.pid}-${Date.now()}-${namespaceCounter++}`] },
];

describe.each(STORES)('the $name store', (store) => {
  const enabled = store.name === 'file' || Boolean(PG_URL);

  it.skipIf(!enabled)('processes in different workspace directories (standing for machines) never lose an update or share a path', async () => {
    const g = store.fresh();
    // PostgreSQL: separate workspace directories sharing one namespace. The file store can only share a
    // workspace on one disk: subdirectories of one workspace stand in, naming the same path as ../hot.ts.
    const shared = tempDir();
    fs.mkdirSync(path.join(shared, '.harn'));
    const onFile = store.name === 'file';
    const machines = Array.from({ length: 4 }, (_, i) => (onFile ? fs.mkdirSync(path.join(shared, `m${i}`)) ?? path.join(shared, `m${i}`) : tempDir('harn-machine-')));
    const env = undefined;
    const hot = onFile ? '../hot.ts' : 'hot.ts';
    const ids = (
      await Promise.all(
        machines.map(async (dir) => {
          const mine: number[] = [];
          for (let i = 0; i < 6; i++) {
            const r = await cliAsync([...g, 'register', `m-${i}`], { cwd: dir, env });
            expect(r.code, r.stderr).toBe(0);
            mine.push(Number(r.stdout));
          }
          return mine;
        }),
      )
    ).flat();
    expect(new Set(ids).size).toBe(24);
    const race = await Promise.all(machines.map((dir, i) => cliAsync([...g, 'lock', hot, '--agent', String(100 + i), '--ttl', '1h'], { cwd: dir, env })));
    expect(race.filter((r) => r.code === 0)).toHaveLength(1);
    expect(race.filter((r) => r.code === 1)).toHaveLength(3);
    const status = JSON.parse((await inProcessCli({ ws: machines[0] as string, clock: testClock(Date.now()) }).run([...g, '--json', 'status'])).stdout);
    expect(status.agents.filter((a: { name: string }) => a.name.startsWith('m-'))).toHaveLength(24);
  });
});
