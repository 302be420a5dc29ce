import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync, tempDir } from '../helpers/cli.js';

// One behavioural suite, run against every store: the state file, and PostgreSQL when
// HARN_TEST_POSTGRES_URL points at a server (.ci/run starts one and sets it).
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

  it.skipIf(!enabled)('runs every command with the same results and exit codes', () => {
    const ws = tempDir();
    const g = store.fresh();
    const run = (args: string[], env?: Record<string, string>) => cli([...g, ...args], { cwd: ws, env });
    const json = (args: string[]) => JSON.parse(run(['--json', ...args]).stdout);
    expect(run(['register', 'editor']).stdout).toBe('1\n');
    expect(run(['register', 'ci', '--id', '10']).stdout).toBe('10\n');
    expect(json(['lock', 'src/a.ts', 'docs/', '--agent', '1', '--reason', 'why', '--ttl', '1h'])).toMatchObject({ granted: true });
    const refused = run(['lock', 'docs/x.md', '--agent', '10']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/docs\/x\.md is held by agent 1 \(editor\) through docs\/ \(reason: why\)/);
    expect(json(['holder', 'src/a.ts', 'free.ts'])).toEqual([
      { path: 'src/a.ts', holder: { id: 1, name: 'editor', expires_ms: expect.any(Number), held_path: 'src/a.ts', reason: 'why' } },
      { path: 'free.ts', holder: null },
    ]);
    expect(run(['holder', 'free.ts']).code).toBe(1);
    expect(run(['check', 'src/a.ts']).code).toBe(1);
    expect(run(['check', 'src/a.ts', '--agent', '1']).code).toBe(0);
    expect(json(['note-edit', '1'])).toMatchObject({ counted: true, edit_count: 1 });
    expect(run(['note-edit', '99']).code).toBe(1);
    expect(json(['heartbeat', '10'])).toMatchObject({ id: 10, state: 'active' });
    expect(json(['release', 'src/a.ts', '--agent', '1'])).toMatchObject({ released: ['src/a.ts'] });
    expect(json(['release', '--force', 'docs/', '--reason', 'test'])).toMatchObject({ broken: [{ path: 'docs/', holder: { id: 1 } }] });
    expect(json(['log']).events.map((e: { type: string }) => e.type)).toEqual(['force-release']);
    expect(json(['status']).agents.map((a: { id: number }) => a.id)).toEqual([1, 10]);
    expect(json(['unregister', '10'])).toMatchObject({ removed: true });
    expect(run(['lock', '../outside', '--agent', '1']).code).toBe(2);
    expect(json(['register', 'next'])).toEqual({ id: 11, name: 'next' });
  });

  it.skipIf(!enabled)('expiry and reap boundaries: a lock is free at its expiry, a silent agent is reaped and its locks released', async () => {
    const ws = tempDir();
    const g = store.fresh();
    const run = (args: string[], env?: Record<string, string>) => cli([...g, ...args], { cwd: ws, env });
    // The expiry is exact on the store's own clock (no timing involved); whether the lock is still held a
    // spawn later depends on the machine's load, so that boundary is tested in-process (test/unit/boundaries).
    const locked = JSON.parse(run(['--json', 'lock', 'short.ts', '--agent', '1', '--ttl', '300ms']).stdout);
    expect(locked.granted).toBe(true);
    expect(locked.paths[0].expires_ms - locked.now_ms).toBe(300);
    // Later only makes it more expired: a loaded machine cannot break this wait.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(run(['holder', 'short.ts']).code).toBe(1);
    expect(run(['lock', 'short.ts', '--agent', '2']).code).toBe(0);
    run(['lock', 'long.ts', '--agent', '3', '--ttl', '1h']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    run(['config', 'set', 'agent-timeout', '500ms']);
    const reaped = JSON.parse(run(['--json', 'reap']).stdout);
    expect(reaped.reaped.map((a: { id: number }) => a.id).sort()).toEqual([1, 2, 3]);
    expect(run(['holder', 'long.ts']).code).toBe(1);
    const log = JSON.parse(run(['--json', 'log']).stdout);
    expect(log.events.filter((e: { type: string }) => e.type === 'reap')).toHaveLength(3);
  });

  it.skipIf(!enabled)('keeps workspace settings and per-agent timeouts: defaults for new locks, reaping by each agent\'s own timeout', async () => {
    const ws = tempDir();
    const g = store.fresh();
    const run = (args: string[], env?: Record<string, string>) => cli([...g, ...args], { cwd: ws, env });
    const json = (args: string[]) => JSON.parse(run(['--json', ...args]).stdout);
    expect(json(['config', 'set', 'lock-ttl', '2h'])).toMatchObject({ key: 'lock-ttl', changed: true });
    expect(json(['config', 'set', 'agent-timeout', '1h'])).toMatchObject({ changed: true });
    expect(json(['config', 'set', 'retention', '30d'])).toMatchObject({ key: 'retention', changed: true });
    expect(json(['config']).settings.map((s: { key: string; value_ms: number; source: string }) => [s.key, s.value_ms, s.source])).toEqual([
      ['agent-timeout', 3_600_000, 'workspace'],
      ['lock-ttl', 7_200_000, 'workspace'],
      ['retention', 2_592_000_000, 'workspace'],
    ]);
    expect(run(['register', 'short', '--timeout', '300ms']).stdout).toBe('1\n');
    expect(run(['register', 'long']).stdout).toBe('2\n');
    // A lock taken without --ttl lasts the workspace's lock-ttl (read by a scoped PostgreSQL write too).
    const locked = json(['lock', 'a.ts', '--agent', '1']);
    expect(locked.paths[0].expires_ms - locked.now_ms).toBe(7_200_000);
    // --all: on a loaded machine 300 ms may already have passed, and agent 1 is listed though reaped.
    expect(json(['status', '--all']).agents.map((a: { id: number; timeout_ms: number; own_timeout: boolean }) => [a.id, a.timeout_ms, a.own_timeout])).toEqual([
      [1, 300, true],
      [2, 3_600_000, false],
    ]);
    // Later only makes agent 1 more overdue: a loaded machine cannot break this wait.
    await new Promise((resolve) => setTimeout(resolve, 400));
    // A write about other paths and agents reaps the overdue agent (its own timeout), not the other.
    expect(run(['lock', 'b.ts', '--agent', '2']).code).toBe(0);
    const reaps = json(['log']).events.filter((e: { type: string }) => e.type === 'reap');
    // Only agent 1, once or (if a slow machine let 300 ms pass before its lock revived it) twice.
    expect([...new Set(reaps.map((e: { agent: { id: number } }) => e.agent.id))]).toEqual([1]);
    expect(run(['holder', 'a.ts']).code).toBe(1);
    expect(json(['status', '--all']).agents.map((a: { id: number; state: string }) => [a.id, a.state])).toEqual([
      [1, 'crashed'],
      [2, 'active'],
    ]);
    expect(json(['config', 'unset', 'lock-ttl'])).toMatchObject({ changed: true });
    expect(json(['config']).settings.find((s: { key: string }) => s.key === 'lock-ttl')).toMatchObject({ value_ms: 30_000, source: 'default' });
  });

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
    const status = JSON.parse(cli([...g, '--json', 'status'], { cwd: machines[0] as string, env }).stdout);
    expect(status.agents.filter((a: { name: string }) => a.name.startsWith('m-'))).toHaveLength(24);
  });
});

describe.skipIf(!PG_URL)('PostgreSQL specifics', () => {
  it('export from the file store and import into PostgreSQL moves the registry whole', () => {
    const ws = tempDir();
    cli(['register', 'editor'], { cwd: ws });
    cli(['lock', 'src/a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'moving'], { cwd: ws });
    const exported = cli(['export'], { cwd: ws }).stdout;
    expect(exported).toBe(fs.readFileSync(path.join(ws, '.harn/agents.json'), 'utf8'));
    const file = path.join(ws, 'snapshot.json');
    fs.writeFileSync(file, exported);
    const pg = ['--store', PG_URL ?? '', '--namespace', `import-${process.pid}-${Date.now()}`];
    const imported = cli([...pg, 'import', file], { cwd: ws });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 1 agents into postgres/);
    expect(cli([...pg, 'holder', 'src/a.ts'], { cwd: ws }).stdout).toMatch(/agent 1 \(editor\) \(reason: moving\)/);
    expect(cli([...pg, 'export'], { cwd: ws }).stdout).toBe(exported);
    // An invalid snapshot is refused and changes nothing.
    fs.writeFileSync(file, '{"agents":[{"id":"x"}]}');
    expect(cli([...pg, 'import', file], { cwd: ws }).code).toBe(3);
    expect(cli([...pg, 'export'], { cwd: ws }).stdout).toBe(exported);
  });

  it("keeps the harn extension through import and export: settings, agents' timeouts, worktrees, branches, client processes", () => {
    const ws = tempDir();
    // Agent 1 was seen now (this machine runs the server): its own hour of timeout keeps it active.
    const seen = Date.now();
    const snapshot =
      `{"next_id":4,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":${seen},"edit_count":0,"locked_paths":{"x.ts":99999999999999}},` +
      '{"id":3,"name":"b","state":"crashed","last_seen_ms":900,"edit_count":2,"locked_paths":{}}],' +
      '"harn":{"settings":{"agent_timeout_ms":28800000,"lock_ttl_ms":60000,"future_ms":5},' +
      '"agents":{"1":{"timeout_ms":3600000,"worktree":"/w/one","branch":"feature","process":{"pid":42,"start":7,"boot":"x"},"later":[1]},"3":{"branch":"main"}}}}';
    const file = path.join(ws, 'snapshot.json');
    fs.writeFileSync(file, snapshot);
    const pg = ['--store', PG_URL ?? '', '--namespace', `extension-${process.pid}-${Date.now()}`];
    const imported = cli([...pg, 'import', file], { cwd: ws });
    expect(imported.code, imported.stderr).toBe(0);
    const exported = cli([...pg, 'export'], { cwd: ws }).stdout;
    expect(exported.trimEnd()).toBe(snapshot);
    const status = JSON.parse(cli([...pg, '--json', 'status', '--all'], { cwd: ws }).stdout);
    expect(status.agents.map((a: { id: number; timeout_ms: number; worktree: string | null; branch: string | null }) => [a.id, a.timeout_ms, a.worktree, a.branch])).toEqual([
      [1, 3_600_000, '/w/one', 'feature'],
      [3, 28_800_000, null, 'main'],
    ]);
    // A scoped write (a lock by agent 3) leaves what it did not touch as it was.
    expect(cli([...pg, 'lock', 'y.ts', '--agent', '3'], { cwd: ws }).code).toBe(0);
    const after = JSON.parse(cli([...pg, 'export'], { cwd: ws }).stdout);
    expect(after.harn.settings).toEqual(JSON.parse(snapshot).harn.settings);
    expect(after.harn.agents['1']).toEqual(JSON.parse(snapshot).harn.agents['1']);
  });

  it('unreachable servers, bad credentials and missing databases: exit 3, one line, no password shown', () => {
    const ws = tempDir();
    const url = new URL(PG_URL ?? '');
    const cases = [
      `postgres://someone:s3cret@127.0.0.1:1/test`,
      `postgres://harn_no_such_role:s3cret@${url.host}/test`,
      `postgres://${url.username || 'postgres'}:s3cret@${url.host}/harn_no_such_database`,
    ];
    for (const store of cases) {
      const r = cli(['--store', store, 'register', 'x'], { cwd: ws });
      expect(r.code).toBe(3);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^harn-agents: cannot connect to the PostgreSQL store postgres:\/\/[^ ]*\*\*\*@/);
      expect(r.stderr).not.toContain('s3cret');
    }
    expect(cli(['--store', 'mysql://x', 'status'], { cwd: ws }).code).toBe(2);
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });

  it('uses the database server clock: now_ms is the server time', () => {
    const ws = tempDir();
    const pg = ['--store', PG_URL ?? '', '--namespace', `clock-${process.pid}-${Date.now()}`];
    cli([...pg, 'register', 'a'], { cwd: ws });
    const before = Date.now();
    const status = JSON.parse(cli([...pg, '--json', 'status'], { cwd: ws }).stdout);
    expect(Math.abs(status.now_ms - before)).toBeLessThan(5_000);
  });
});
