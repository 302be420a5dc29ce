import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliAsync, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';
import pg from 'pg';
import { sliceLockKeys } from '../../src/store/pg-rows.js';

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
  /** The calls' environment (the CLI's default: no session keeper in tests, cleanEnv). */
  env?(): Record<string, string>;
}
const pgFresh = () => ['--store', PG_URL ?? '', '--namespace', `test-${process.pid}-${Date.now()}-${namespaceCounter++}`];
const STORES: StoreUnderTest[] = [
  { name: 'file', fresh: () => [] },
  { name: 'postgres', fresh: pgFresh },
  // As users run it: the first calls (racing) start the session keeper, the rest borrow its sessions, which
  // then race on the server as the calls' own would. A runtime directory of its own; it ends soon after.
  {
    name: 'postgres (session keeper)',
    fresh: pgFresh,
    env: () => {
      const runtime = tempDir('harn-keeper-runtime-');
      fs.chmodSync(runtime, 0o700);
      return { HARN_PG_KEEPER: 'on', XDG_RUNTIME_DIR: runtime, HARN_PG_KEEPER_IDLE_MS: '3000' };
    },
  },
];

/**
 * Hold a namespace's advisory lock (exclusive, as a whole-registry writer does) from a session of the test's
 * own; `openWhenWaiting(n)` lets it go once n sessions wait for it, so those n start their work together.
 */
async function holdNamespace(namespace: string) {
  const [classid, objid] = sliceLockKeys(namespace, [], []).namespace;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query('SELECT pg_advisory_lock($1, $2)', [classid, objid]);
  return {
    async openWhenWaiting(n: number): Promise<void> {
      try {
        // Bounded: if they never all wait (one failed early), the counts asserted afterwards say what happened.
        for (let i = 0; i < 600; i++) {
          const r = await admin.query(
            "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2",
            [classid, objid],
          );
          if (r.rows[0].n >= n) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      } finally {
        await admin.query('SELECT pg_advisory_unlock($1, $2)', [classid, objid]);
        await admin.end();
      }
    },
  };
}

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
    const env = store.env?.();
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
    // Three rounds, each on a path of its own. On PostgreSQL the four callers are made to meet: the test holds the
    // namespace's lock, which every writer takes first (shared), until all four wait on it, then lets them go
    // at once, so their transactions on the path really overlap (started as processes, they would mostly
    // come one after the other, and a path lock that failed to exclude would go unseen).
    for (let round = 0; round < 3; round++) {
      const file = round === 0 ? hot : hot.replace('hot.ts', `hot-${round}.ts`);
      const gate = onFile ? null : await holdNamespace(g[g.indexOf('--namespace') + 1] as string);
      const racing = Promise.all(machines.map((dir, i) => cliAsync([...g, 'lock', file, '--agent', String(100 + 10 * round + i), '--ttl', '1h'], { cwd: dir, env })));
      if (gate) await gate.openWhenWaiting(machines.length);
      const race = await racing;
      expect(race.filter((r) => r.code === 0), file).toHaveLength(1);
      expect(race.filter((r) => r.code === 1), file).toHaveLength(3);
    }
    const status = JSON.parse((await inProcessCli({ ws: machines[0] as string, clock: testClock(Date.now()) }).run([...g, '--json', 'status'])).stdout);
    expect(status.agents.filter((a: { name: string }) => a.name.startsWith('m-'))).toHaveLength(24);
  });
});
