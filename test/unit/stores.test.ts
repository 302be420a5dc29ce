import fs from 'node:fs';
import path from 'node:path';
import pgClient from 'pg';
import { describe, expect, it } from 'vitest';
import { inProcessCli, testClock, type TestClock } from '../helpers/in-process.js';

// One behavioural suite, run against every store: the state file, and PostgreSQL when
// HARN_TEST_POSTGRES_URL points at a server (.ci/run starts one and sets it). In-process through the CLI's
// own wiring (runCli). The file store runs on an injected clock, so time passes without waiting; PostgreSQL
// keeps the server's clock, so there time really passes, and every wait only makes what it waits for more
// true (a loaded machine cannot break it). Processes racing each other are in test/e2e/stores.test.ts.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;
if (!PG_URL) console.warn('[harn-agents] HARN_TEST_POSTGRES_URL is not set: the PostgreSQL store suite is skipped');

let namespaceCounter = 0;
const namespace = (what: string) => `${what}-${process.pid}-${Date.now()}-${namespaceCounter++}`;

interface StoreUnderTest {
  readonly name: 'file' | 'postgres';
  /** Global arguments for a fresh, empty registry. */
  fresh(): string[];
}
const STORES: StoreUnderTest[] = [
  { name: 'file', fresh: () => [] },
  { name: 'postgres', fresh: () => ['--store', PG_URL ?? '', '--namespace', namespace('test')] },
];

/** At least `ms` of the store's time: the injected clock moved (file), or real time waited out (PostgreSQL). */
async function elapse(store: StoreUnderTest, clock: TestClock, ms: number): Promise<void> {
  if (store.name === 'file') {
    clock.now += ms;
    return;
  }
  const since = Date.now();
  while (Date.now() - since <= ms) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.each(STORES)('the $name store', (store) => {
  const enabled = store.name === 'file' || Boolean(PG_URL);
  const onFile = store.name === 'file';

  /** The CLI in-process over a fresh registry of this store. */
  function fresh() {
    const g = store.fresh();
    const cli = inProcessCli({ clock: testClock() });
    const run = (args: string[], env?: Record<string, string>) => cli.run([...g, ...args], env);
    const json = async (args: string[]) => {
      const result = await run(['--json', ...args]);
      expect(result.stderr, args.join(' ')).toBe('');
      return JSON.parse(result.stdout);
    };
    return { ws: cli.ws, clock: cli.clock, run, json };
  }

  it.skipIf(!enabled)('runs every command with the same results and exit codes', async () => {
    const { run, json } = fresh();
    expect(await run(['register', 'editor'])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(await run(['register', 'ci', '--id', '10'])).toEqual({ code: 0, stdout: '10\n', stderr: '' });
    const locked = await json(['lock', 'src/a.ts', 'docs/', '--agent', '1', '--reason', 'why', '--ttl', '1h']);
    expect(locked).toMatchObject({ granted: true, agent: 1 });
    expect(locked.locks.map((p: { path: string; expires_ms: number }) => [p.path, p.expires_ms - locked.now_ms])).toEqual([
      ['src/a.ts', 3_600_000],
      ['docs/', 3_600_000],
    ]);
    const refused = await run(['lock', 'docs/x.md', '--agent', '10']);
    // On PostgreSQL the server's time moved on since the lock: up to a second less than the hour is shown.
    expect({ ...refused, stderr: onFile ? refused.stderr : refused.stderr.replace(/expires in 59m5\ds/, 'expires in 1h') }).toEqual({
      code: 1,
      stdout: '',
      stderr: 'refused: docs/x.md is held by agent 1 (editor) through docs/ (reason: why), expires in 1h\nnothing was locked for agent 10\n',
    });
    const holders = await json(['holder', 'src/a.ts', 'free.ts']);
    expect(holders).toEqual([
      { path: 'src/a.ts', holders: [locked.locks[0]], retry_after_ms: holders[0].retry_after_ms },
      { path: 'free.ts', holders: [], retry_after_ms: null },
    ]);
    expect(holders[0].retry_after_ms).toBeLessThanOrEqual(3_600_000);
    expect(await run(['holder', 'free.ts'])).toEqual({ code: 1, stdout: 'free.ts: free\n', stderr: '' });
    expect((await run(['check', 'src/a.ts'])).code).toBe(1);
    expect(await run(['check', 'src/a.ts', '--agent', '1'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await json(['note-edit', '1'])).toMatchObject({ counted: true, edit_count: 1 });
    expect((await run(['note-edit', '99'])).code).toBe(1);
    expect(await json(['heartbeat', '10'])).toMatchObject({ id: 10, state: 'active' });
    expect(await json(['release', 'src/a.ts', '--agent', '1'])).toMatchObject({ released: ['src/a.ts'] });
    expect(await json(['release', '--force', 'docs/', '--reason', 'test'])).toMatchObject({ broken: [{ path: 'docs/', agent: { id: 1 }, mode: 'exclusive' }] });
    expect((await json(['log'])).events.map((e: { type: string }) => e.type)).toEqual(['force-release']);
    expect((await json(['status'])).agents.map((a: { id: number }) => a.id)).toEqual([1, 10]);
    expect(await json(['unregister', '10'])).toMatchObject({ removed: true });
    expect((await run(['lock', '../outside', '--agent', '1'])).code).toBe(2);
    expect(await json(['register', 'next'])).toEqual({ id: 11, name: 'next' });
  });

  it.skipIf(!enabled)('expiry and reap boundaries: a lock is free at its expiry, a silent agent is reaped and its locks released', async () => {
    const { clock, run, json } = fresh();
    // The expiry is exact on the store's own clock; the boundary to the millisecond is in test/unit/boundaries.
    const locked = await json(['lock', 'short.ts', '--agent', '1', '--ttl', '300ms']);
    expect(locked.granted).toBe(true);
    expect(locked.locks[0].expires_ms - locked.now_ms).toBe(300);
    await elapse(store, clock, 400);
    expect(await run(['holder', 'short.ts'])).toEqual({ code: 1, stdout: 'short.ts: free\n', stderr: '' });
    expect((await run(['lock', 'short.ts', '--agent', '2'])).code).toBe(0);
    expect((await run(['lock', 'long.ts', '--agent', '3', '--ttl', '1h'])).code).toBe(0);
    await elapse(store, clock, 600);
    expect((await run(['config', 'set', 'agent-timeout', '500ms'])).code).toBe(0);
    const reaped = await json(['reap']);
    expect(reaped.reaped.map((a: { id: number }) => a.id).sort()).toEqual([1, 2, 3]);
    expect((await run(['holder', 'long.ts'])).code).toBe(1);
    const log = await json(['log']);
    expect(log.events.filter((e: { type: string }) => e.type === 'reap')).toHaveLength(3);
  });

  it.skipIf(!enabled)("keeps workspace settings and per-agent timeouts: defaults for new locks, reaping by each agent's own timeout", async () => {
    const { clock, run, json } = fresh();
    expect(await json(['config', 'set', 'lock-ttl', '2h'])).toMatchObject({ key: 'lock-ttl', changed: true });
    expect(await json(['config', 'set', 'agent-timeout', '1h'])).toMatchObject({ changed: true });
    expect(await json(['config', 'set', 'retention', '30d'])).toMatchObject({ key: 'retention', changed: true });
    expect((await json(['config'])).settings.map((s: { key: string; value_ms: number; source: string }) => [s.key, s.value_ms, s.source])).toEqual([
      ['agent-timeout', 3_600_000, 'workspace'],
      ['lock-ttl', 7_200_000, 'workspace'],
      ['retention', 2_592_000_000, 'workspace'],
    ]);
    expect(await run(['register', 'short', '--timeout', '300ms'])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(await run(['register', 'long'])).toEqual({ code: 0, stdout: '2\n', stderr: '' });
    // A lock taken without --ttl lasts the workspace's lock-ttl (read by a scoped PostgreSQL write too).
    const locked = await json(['lock', 'a.ts', '--agent', '1']);
    expect(locked.locks[0].expires_ms - locked.now_ms).toBe(7_200_000);
    // --all: on PostgreSQL 300 ms may already have passed on a loaded machine, and agent 1 is listed though reaped.
    expect((await json(['status', '--all'])).agents.map((a: { id: number; timeout_ms: number; own_timeout: boolean }) => [a.id, a.timeout_ms, a.own_timeout])).toEqual([
      [1, 300, true],
      [2, 3_600_000, false],
    ]);
    await elapse(store, clock, 400);
    // A write about other paths and agents reaps the overdue agent (its own timeout), not the other.
    expect((await run(['lock', 'b.ts', '--agent', '2'])).code).toBe(0);
    const reaps = (await json(['log'])).events.filter((e: { type: string }) => e.type === 'reap');
    // Only agent 1: on the injected clock exactly once; on PostgreSQL once or (if a slow machine let 300 ms
    // pass before its lock revived it) twice.
    if (onFile) expect(reaps.map((e: { agent: { id: number } }) => e.agent.id)).toEqual([1]);
    else expect([...new Set(reaps.map((e: { agent: { id: number } }) => e.agent.id))]).toEqual([1]);
    expect(await run(['holder', 'a.ts'])).toEqual({ code: 1, stdout: 'a.ts: free\n', stderr: '' });
    expect((await json(['status', '--all'])).agents.map((a: { id: number; state: string }) => [a.id, a.state])).toEqual([
      [1, 'crashed'],
      [2, 'active'],
    ]);
    expect(await json(['config', 'unset', 'lock-ttl'])).toMatchObject({ changed: true });
    expect((await json(['config'])).settings.find((s: { key: string }) => s.key === 'lock-ttl')).toMatchObject({ value_ms: 30_000, source: 'default' });
  });

  // Only the file store takes the caller's clock (PostgreSQL uses the server's), so only it gets this test.
  if (onFile)
  it('on the injected clock, a silent agent is reaped exactly one millisecond past its own timeout', async () => {
    const { clock, run, json } = fresh();
    expect((await run(['register', 'short', '--timeout', '300ms'])).code).toBe(0);
    expect((await run(['lock', 'a.ts', '--agent', '1', '--ttl', '1h'])).code).toBe(0);
    clock.now += 300;
    expect((await json(['reap'])).reaped).toEqual([]);
    clock.now += 1;
    expect((await json(['reap'])).reaped).toEqual([{ id: 1, name: 'short' }]);
    expect((await run(['holder', 'a.ts'])).code).toBe(1);
  });
});

describe.skipIf(!PG_URL)('PostgreSQL specifics', () => {
  it('export from the file store and import into PostgreSQL moves the registry whole', async () => {
    const { ws, run } = inProcessCli({ clock: testClock(Date.now()) });
    expect((await run(['register', 'editor'])).code).toBe(0);
    expect((await run(['lock', 'src/a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'moving'])).code).toBe(0);
    const exported = (await run(['export'])).stdout;
    expect(exported).toBe(fs.readFileSync(path.join(ws, '.harn/agents.json'), 'utf8'));
    const file = path.join(ws, 'snapshot.json');
    fs.writeFileSync(file, exported);
    const pg = ['--store', PG_URL ?? '', '--namespace', namespace('import')];
    const imported = await run([...pg, 'import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 1 agents into postgres/);
    expect((await run([...pg, 'holder', 'src/a.ts'])).stdout).toMatch(/^src\/a\.ts: agent 1 \(editor\) \(reason: moving\), expires in (59m\d+s|1h)\n$/);
    expect((await run([...pg, 'export'])).stdout).toBe(exported);
    // An invalid snapshot is refused and changes nothing.
    fs.writeFileSync(file, '{"agents":[{"id":"x"}]}');
    const refused = await run([...pg, 'import', file]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.split('\n')).toHaveLength(2);
    expect((await run([...pg, 'export'])).stdout).toBe(exported);
  });

  it("keeps the harn extension through import and export: settings, agents' timeouts, worktrees, branches, client processes", async () => {
    const { ws, run } = inProcessCli({ clock: testClock(Date.now()) });
    // Agent 1 was seen now (this machine runs the server): its own hour of timeout keeps it active.
    const seen = Date.now();
    const snapshot =
      `{"next_id":4,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":${seen},"edit_count":0,"locked_paths":{"x.ts":99999999999999}},` +
      '{"id":3,"name":"b","state":"crashed","last_seen_ms":900,"edit_count":2,"locked_paths":{}}],' +
      '"harn":{"settings":{"agent_timeout_ms":28800000,"lock_ttl_ms":60000,"future_ms":5},' +
      '"agents":{"1":{"timeout_ms":3600000,"worktree":"/w/one","branch":"feature","process":{"pid":42,"start":7,"boot":"x"},"later":[1]},"3":{"branch":"main"}}}}';
    const file = path.join(ws, 'snapshot.json');
    fs.writeFileSync(file, snapshot);
    const pg = ['--store', PG_URL ?? '', '--namespace', namespace('extension')];
    const imported = await run([...pg, 'import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    const exported = (await run([...pg, 'export'])).stdout;
    expect(exported.trimEnd()).toBe(snapshot);
    const status = JSON.parse((await run([...pg, '--json', 'status', '--all'])).stdout);
    expect(status.agents.map((a: { id: number; timeout_ms: number; worktree: string | null; branch: string | null }) => [a.id, a.timeout_ms, a.worktree, a.branch])).toEqual([
      [1, 3_600_000, '/w/one', 'feature'],
      [3, 28_800_000, null, 'main'],
    ]);
    // A scoped write (a lock by agent 3) leaves what it did not touch as it was.
    expect((await run([...pg, 'lock', 'y.ts', '--agent', '3'])).code).toBe(0);
    const after = JSON.parse((await run([...pg, 'export'])).stdout);
    expect(after.harn.settings).toEqual(JSON.parse(snapshot).harn.settings);
    expect(after.harn.agents['1']).toEqual(JSON.parse(snapshot).harn.agents['1']);
  });

  it('unreachable servers, bad credentials and missing databases: exit 3, one line, no password shown', async () => {
    const { ws, run } = inProcessCli({ clock: testClock() });
    const url = new URL(PG_URL ?? '');
    const cases = [
      `postgres://someone:s3cret@127.0.0.1:1/test`,
      `postgres://harn_no_such_role:s3cret@${url.host}/test`,
      `postgres://${url.username || 'postgres'}:s3cret@${url.host}/harn_no_such_database`,
    ];
    for (const store of cases) {
      const r = await run(['--store', store, 'register', 'x']);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^harn-agents: cannot connect to the PostgreSQL store postgres:\/\/[^ ]*\*\*\*@/);
      expect(r.stderr).toMatch(/\(run 'harn-agents doctor'\)\n$/);
      expect(r.stderr).not.toContain('s3cret');
    }
    const mysql = await run(['--store', 'mysql://x', 'status']);
    expect(mysql.code).toBe(2);
    expect(mysql.stdout).toBe('');
    expect(mysql.stderr.split('\n')).toHaveLength(2);
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });

  it("uses the database server clock: now_ms is the server time, not the caller's clock", async () => {
    // The caller's clock is a year away from the server's: now_ms follows the server.
    const { run } = inProcessCli({ clock: testClock(Date.now() + 365 * 86_400_000) });
    const pg = ['--store', PG_URL ?? '', '--namespace', namespace('clock')];
    expect((await run([...pg, 'register', 'a'])).code).toBe(0);
    const before = Date.now();
    const status = JSON.parse((await run([...pg, '--json', 'status'])).stdout);
    expect(Math.abs(status.now_ms - before)).toBeLessThan(5_000);
  });

  it('an in-process call closes its connection when it is done: nothing is left open behind it', async () => {
    const { run } = inProcessCli({ clock: testClock() });
    // A name of its own, so the server's list shows this test's connections and no other's.
    const name = namespace('close');
    const url = new URL(PG_URL ?? '');
    url.searchParams.set('application_name', name);
    const pg = ['--store', url.toString(), '--namespace', name];
    // The observer connects first, so a slow connect on a loaded machine does not eat the window below.
    const client = new pgClient.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      expect((await run([...pg, 'register', 'a'])).code).toBe(0);
      expect((await run([...pg, '--json', 'status'])).code).toBe(0);
      const done = Date.now();
      // The backend is gone by the time the close returns; a moment's grace for the server's own list, well
      // under the pool's 1 s idle timeout (without the close, the connection stays that long, idle).
      let open = -1;
      while (open !== 0 && Date.now() - done < 800) {
        const rows = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
        open = (rows.rows[0] as { n: number }).n;
        if (open !== 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(open).toBe(0);
    } finally {
      await client.end();
    }
  });
});
