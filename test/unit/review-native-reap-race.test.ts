import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../src/store/pg-native.js';
import type { Sql } from '../../src/store/pg-rows.js';
import { inProcessCli } from '../helpers/in-process.js';

const PG_URL = process.env.HARN_TEST_POSTGRES_URL;

// Review of issue 23: a reaper (the usual way, FOR UPDATE SKIP LOCKED on a due agent) that crashes the agent
// while the native function is between its read of the agent and its write must not leave a crashed agent
// holding a live lock (the registry's lockAll brings a crashed agent back to active; reap never clears a
// crashed agent's locks). The window is stretched by an uncommitted insert on the lock's key.
describe.skipIf(!PG_URL)('the native lock racing a reap of its agent', () => {
  const clients = [0, 1, 2].map(() => new pg.Client({ connectionString: PG_URL }));
  beforeAll(() => Promise.all(clients.map((c) => c.connect())));
  afterAll(() => Promise.all(clients.map((c) => c.end())));

  it('leaves no crashed agent with a live lock', async () => {
    const [p, reaper, native] = clients as [pg.Client, pg.Client, pg.Client];
    const namespace = `reap-race-${process.pid}-${Date.now()}`;
    const cli = inProcessCli();
    const g = ['--store', PG_URL ?? '', '--namespace', namespace];
    expect((await cli.run([...g, 'register', 'nine', '--id', '9'])).code).toBe(0);
    // Installs this version's function (a native heartbeat).
    expect((await cli.run([...g, 'heartbeat', '9'])).code).toBe(0);
    await p.query('BEGIN');
    await p.query("INSERT INTO harn_locks (namespace, path, agent_id, expires_ms) VALUES ($1, 'Y', 9, 1)", [namespace]);
    const sql: Sql = (text, values) => native.query(text, values) as never;
    const done = runNative(sql, namespace, {}, { op: 'lock', agent: 9, paths: ['Y'], ttlMs: 3_600_000, reason: undefined, terms: {} }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // Let the function read the agent and reach its insert, then reap the agent as writeBack would.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await reaper.query('BEGIN');
    await reaper.query("SELECT id FROM harn_agents WHERE namespace = $1 AND id = 9 AND state = 'active' FOR UPDATE SKIP LOCKED", [namespace]);
    await reaper.query("UPDATE harn_agents SET state = 'crashed' WHERE namespace = $1 AND id = 9", [namespace]);
    await reaper.query('COMMIT');
    await p.query('ROLLBACK');
    await done;
    const rows = await reaper.query<{ state: string; live: string }>(
      `SELECT a.state, (SELECT count(*) FROM harn_locks l WHERE l.namespace = a.namespace AND l.agent_id = a.id AND l.expires_ms > 1) AS live
         FROM harn_agents a WHERE a.namespace = $1 AND a.id = 9`,
      [namespace],
    );
    const row = rows.rows[0];
    expect(row?.state === 'crashed' && Number(row.live) > 0, JSON.stringify(row)).toBe(false);
  });
});
