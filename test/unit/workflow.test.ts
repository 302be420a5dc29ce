import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, readState, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock, type TestClock } from '../helpers/in-process.js';

// Directory locks, reasons, force release and the event log, status filters, check, with-lock's renewals,
// completion: through the CLI's own wiring (runCli) over a real workspace, on an injected clock. Real git
// hooks, with-lock's child processes and signals, check --stdin and status --watch are in
// test/e2e/workflow.test.ts.

let ws: string;
let clock: TestClock;
let run: ReturnType<typeof inProcessCli>['run'];
let json: ReturnType<typeof inProcessCli>['json'];
let T0: number;
beforeEach(() => {
  ({ ws, clock, run, json } = inProcessCli({ clock: testClock() }));
  T0 = clock.now;
});

const git = (cwd: string, ...args: string[]) =>
  spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' }) });

/** Resolve once `condition` holds, looking every 20 ms: a wait for an event, bounded by the test's timeout only. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('directory locks and reasons', () => {
  it('a directory lock and a file lock under it conflict both ways; holder and refusals name the directory and the reason', async () => {
    expect((await run(['lock', 'src/api/', '--agent', '1', '--reason', 'renaming the API', '--ttl', '1h'])).code).toBe(0);
    const refused = await run(['lock', 'src/api/users.ts', '--agent', '2']);
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'refused: src/api/users.ts is held by agent 1 (agent-1) through src/api/ (reason: renaming the API), expires in 1h\nnothing was locked for agent 2\n',
    });
    expect((await run(['holder', 'src/api/users.ts'])).stdout).toBe('src/api/users.ts: agent 1 (agent-1) through src/api/ (reason: renaming the API), expires in 1h\n');
    expect((await run(['lock', 'src/apiary.ts', '--agent', '2'])).code).toBe(0);
    const holders = (await json(['holder', 'src/api/deep/x.ts'])).data;
    expect(holders[0].holders).toEqual([
      { path: 'src/api/', kind: 'directory', mode: 'exclusive', slots: null, agent: { id: 1, name: 'agent-1' }, expires_ms: T0 + 3_600_000, reason: 'renaming the API' },
    ]);
    // The other way round: a file lock blocks its directory.
    expect((await run(['lock', 'lib/util.ts', '--agent', '2'])).code).toBe(0);
    expect((await run(['lock', 'lib/', '--agent', '1'])).code).toBe(1);
    // Reasons live under the one extension member; the seed's fields are untouched.
    const raw = JSON.parse(fs.readFileSync(path.join(ws, '.harn/agents.json'), 'utf8'));
    expect(Object.keys(raw)).toEqual(['next_id', 'agents', 'harn']);
    expect(raw.harn).toEqual({ reasons: { 1: { 'src/api/': 'renaming the API' } } });
    expect(Object.keys(raw.agents[0])).toEqual(['id', 'name', 'state', 'last_seen_ms', 'edit_count', 'locked_paths']);
  });

  it('status shows reasons; --locks lists one row per lock by expiry; --path and --agent filter', async () => {
    await run(['lock', 'a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'slow one']);
    await run(['lock', 'src/b.ts', '--agent', '2', '--ttl', '1m']);
    clock.now += 10_000;
    expect((await run(['status', '--table'])).stdout).toContain('a.ts (59m50s left: slow one)');
    const locks = (await json(['status', '--locks'])).data;
    expect(locks.locks.map((l: { path: string }) => l.path)).toEqual(['src/b.ts', 'a.ts']);
    expect(locks.locks[1]).toMatchObject({ agent: { id: 1, name: 'agent-1' }, reason: 'slow one' });
    expect((await run(['status', '--locks', '--table'])).stdout).toMatch(/│ path +│ holder +│ mode +│ reason +│ time left │/);
    expect((await json(['status', '--path', 'src/'])).data.agents.map((a: { id: number }) => a.id)).toEqual([2]);
    expect((await json(['status', '--agent', '1'])).data.agents.map((a: { id: number }) => a.id)).toEqual([1]);
  });

  it('crashed agents holding nothing are hidden unless --all', async () => {
    await run(['register', 'gone-quiet']);
    await run(['register', 'alive']);
    await run(['heartbeat', '2']);
    await run(['config', 'set', 'agent-timeout', '1ms']);
    clock.now += 2;
    expect((await json(['reap'])).data).toEqual({ reaped: [{ id: 1, name: 'gone-quiet' }, { id: 2, name: 'alive' }] });
    await run(['config', 'unset', 'agent-timeout']);
    await run(['heartbeat', '2']);
    const plain = (await json(['status'])).data;
    expect(plain.agents.map((a: { id: number }) => a.id)).toEqual([2]);
    expect(plain.hidden).toBe(1);
    expect((await run(['status', '--table'])).stdout).toMatch(/1 crashed or gone agent holding nothing hidden; --all shows them/);
    expect((await json(['status', '--all'])).data.agents.map((a: { id: number }) => a.id)).toEqual([1, 2]);
  });
});

describe('release --force and the event log', () => {
  it("breaks another agent's lock, needs a reason, and is recorded with reaps in events.jsonl", async () => {
    await run(['lock', 'f.ts', '--agent', '1', '--ttl', '1h', '--reason', 'mine']);
    expect((await run(['release', '--force', 'f.ts'])).code).toBe(2);
    clock.now += 1_000;
    const forced = (await json(['release', '--force', 'f.ts', '--reason', 'agent 1 is stuck', '--agent', '9'])).data;
    expect(forced.broken).toEqual([{ path: 'f.ts', kind: 'path', mode: 'exclusive', slots: null, agent: { id: 1, name: 'agent-1' }, expires_ms: T0 + 3_600_000, reason: 'mine' }]);
    expect((await run(['holder', 'f.ts'])).code).toBe(1);
    await run(['register', 'silent']);
    await run(['config', 'set', 'agent-timeout', '1ms']);
    clock.now += 2;
    await run(['reap']);
    const log = (await json(['log'])).data;
    expect(log.events.map((e: { type: string }) => e.type)).toEqual(['force-release', 'reap', 'reap']);
    expect(log.events[0]).toMatchObject({ ts: T0 + 1_000, by: 9, reason: 'agent 1 is stuck', broken: [{ path: 'f.ts' }] });
    expect((await run(['log'])).stdout).toMatch(/force-release by agent 9: f\.ts \(held by agent 1 \(agent-1\)\); reason: agent 1 is stuck/);
    expect((await json(['log', '--since', '1h'])).data.events).toHaveLength(3);
    // --since counts back from now: two hours on, none of them is in the last hour.
    clock.now += 2 * 3_600_000;
    expect((await json(['log', '--since', '1h'])).data.events).toHaveLength(0);
    // Every line is one JSON object.
    const lines = fs.readFileSync(path.join(ws, '.harn/events.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['force-release', 'reap', 'reap']);
  });

  it('the event log is bounded by rotation', async () => {
    const { appendEvents, readEvents } = await import('../../src/store/event-log.js');
    const dir = path.join(ws, '.harn');
    fs.mkdirSync(dir);
    const event = { type: 'reap' as const, ts: 1, agent: { id: 1, name: 'x'.repeat(200) }, last_seen_ms: 0, released: [] };
    const rule = { trusted: false };
    for (let i = 0; i < 200; i++) appendEvents(dir, [event], rule, 4_096);
    const sizes = ['events.jsonl', 'events.jsonl.1'].map((f) => fs.statSync(path.join(dir, f)).size);
    expect(Math.max(...sizes)).toBeLessThan(4_096 + 400);
    // Bounded, yet the newest file and a full rotated one are kept (about 16 events of ~260 bytes each).
    const kept = readEvents(dir, rule).events.length;
    expect(kept).toBeLessThan(50);
    expect(kept).toBeGreaterThanOrEqual(15);
  });
});

describe('check', () => {
  it("exits 1 listing conflicts held by others, 0 for the caller's own locks; HARN_GUARD warn and off", async () => {
    await run(['lock', 'a.ts', '--agent', '1', '--reason', 'editing']);
    clock.now += 10_000;
    const refused = await run(['check', 'a.ts', 'b.ts']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^a\.ts: held by agent 1 \(agent-1\) \(reason: editing\), expires in 20s\nharn-agents: 1 of 2 paths are held by other agents\nharn-agents: leave them to their holders and commit only your own files: git restore --staged a\.ts, then commit again\n$/,
    );
    expect((await run(['check', 'a.ts'], { HARN_AGENT_ID: '1' })).code).toBe(0);
    expect((await run(['check', 'a.ts', '--agent', '1'])).code).toBe(0);
    const warn = await run(['check', 'a.ts'], { HARN_GUARD: 'warn' });
    expect(warn.code).toBe(0);
    expect(warn.stderr).toMatch(/warning: 1 of 1 paths are held/);
    expect(await run(['check', 'a.ts'], { HARN_GUARD: 'off' })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await run(['check', 'a.ts'], { HARN_GUARD: 'maybe' })).code).toBe(2);
    expect((await json(['check', 'a.ts'])).data).toMatchObject({ checked: 1, conflicts: [{ path: 'a.ts', holders: [{ agent: { id: 1 }, reason: 'editing' }] }] });
    // Once the lock has run out there is nothing to report.
    clock.now += 20_000;
    expect(await run(['check', 'a.ts', 'b.ts'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('--staged checks the index: both names of a rename, spaces and non-ASCII names', async () => {
    const repo = tempDir('harn-repo-');
    git(repo, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'old name.txt'), 'x');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
    git(repo, 'mv', 'old name.txt', 'nëw name.txt');
    const inRepo = inProcessCli({ ws: repo, clock });
    expect((await inRepo.run(['lock', 'old name.txt', '--agent', '1'])).code).toBe(0);
    const checked = await inRepo.json(['check', '--staged']);
    expect(checked.code).toBe(1);
    expect(checked.data).toMatchObject({ checked: 2, conflicts: [{ path: 'old name.txt' }] });
    await inRepo.run(['release', 'old name.txt', '--agent', '1']);
    await inRepo.run(['lock', 'nëw name.txt', '--agent', '1']);
    expect((await inRepo.run(['check', '--staged'])).code).toBe(1);
    expect((await inRepo.run(['check', '--staged'], { HARN_AGENT_ID: '1' })).code).toBe(0);
  });

  it('--staged from a subdirectory names paths from the top-level, whatever diff.relative says', async () => {
    const repo = tempDir('harn-repo-');
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'diff.relative', 'true');
    fs.mkdirSync(path.join(repo, '.harn'));
    fs.mkdirSync(path.join(repo, 'sub'));
    fs.writeFileSync(path.join(repo, 'sub', 'a.ts'), 'x');
    git(repo, 'add', 'sub/a.ts');
    expect((await inProcessCli({ ws: repo, clock }).run(['lock', 'sub/a.ts', '--agent', '1'])).code).toBe(0);
    const checked = await inProcessCli({ ws: path.join(repo, 'sub'), clock }).json(['check', '--staged']);
    expect(checked.data).toMatchObject({ checked: 1, conflicts: [{ path: 'sub/a.ts' }] });
    expect(checked.code).toBe(1);
  });
});

describe('with-lock', () => {
  it('refused: exit 1 (or -E N) without running the command, naming the holder', async () => {
    await run(['lock', 'data.db', '--agent', '5', '--ttl', '1h']);
    const marker = path.join(ws, 'ran');
    const refused = await run(['with-lock', 'data.db', '--', 'touch', marker]);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'refused: data.db is held by agent 5 (agent-5), expires in 1h\nnothing was locked for agent 6\n' });
    expect((await run(['with-lock', 'data.db', '--conflict-exit-code', '75', '--', 'touch', marker])).code).toBe(75);
    expect(fs.existsSync(marker)).toBe(false);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([5]);
  });

  it('usage errors: no --, no command, no path', async () => {
    expect(await run(['with-lock', 'a', 'true'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'harn-agents: put -- before the command: harn-agents with-lock <path...> -- <command> [args...]\n',
    });
    expect((await run(['with-lock', 'a', '--'])).code).toBe(2);
    expect(await run(['with-lock', '--', 'true'])).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: give at least one path to lock before --\n' });
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });

  it('renews the locks while the command outlives the TTL', async () => {
    // The command runs until the test says so; the registry's time moves only when the test moves it. The
    // renewals (every 2 s, a third of the 6 s TTL) come on real timers: nothing here depends on how fast
    // they come, and only a stall of this process for 4 s could make the locks lapse.
    const go = path.join(ws, 'go');
    const running = run(['with-lock', 'data.db', '--ttl', '6s', '--', 'sh', '-c', `while [ ! -e '${go}' ]; do sleep 0.02; done`]);
    const expiry = (): number | undefined => {
      try {
        return readState(ws).agents[0]?.locked_paths['data.db'];
      } catch {
        return undefined;
      }
    };
    await until(() => expiry() !== undefined);
    expect(expiry()).toBe(T0 + 6_000);
    // Just before the TTL runs out on the registry's clock: the next renewal counts 6 s from here.
    clock.now = T0 + 5_000;
    const ended = running.then((result) => {
      throw new Error(`with-lock ended before renewing its locks: ${JSON.stringify(result)}`);
    });
    await Promise.race([until(() => expiry() !== T0 + 6_000), ended]);
    expect(expiry()).toBe(T0 + 11_000);
    // Past the TTL the locks were granted with: still held, by the renewal (or by one more, at T0 + 7 s, if
    // the next came in between).
    clock.now = T0 + 7_000;
    const held = await json(['holder', 'data.db']);
    expect(held.code).toBe(0);
    expect(held.data).toMatchObject([{ path: 'data.db', holders: [{ agent: { id: 1, name: 'with-lock: sh' } }] }]);
    expect([T0 + 11_000, T0 + 13_000]).toContain(held.data[0].holders[0].expires_ms);
    expect(await run(['holder', 'data.db'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^data\.db: agent 1 \(with-lock: sh\), expires in [46]s\n$/) });
    fs.writeFileSync(go, '');
    expect(await running).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await run(['holder', 'data.db'])).code).toBe(1);
    expect(readState(ws).agents).toEqual([]);
    const log = (await json(['log'])).data;
    expect(log.events).toEqual([expect.objectContaining({ type: 'with-lock', paths: ['data.db'], exit_code: 0, duration_ms: 7_000 })]);
  });
});

describe('completion', () => {
  it('completion bash completes commands and options', async () => {
    const script = (await run(['completion', 'bash'])).stdout;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _harn_agents; echo "\${COMPREPLY[*]}"`], {
        encoding: 'utf8',
      }).stdout.trim();
    expect(complete(['harn-agents', 'wi'])).toBe('with-lock');
    expect(complete(['harn-agents', 'lock', '--rea'])).toBe('--reason');
    expect(complete(['harn-agents', 'lock', '--sh'])).toBe('--shared');
    expect(complete(['harn-agents', 'with-lock', '--sl'])).toBe('--slots');
    expect(complete(['harn-agents', 'hook', 'un'])).toBe('uninstall');
    expect((await run(['completion', 'zsh'])).stdout).toMatch(/bashcompinit/);
    expect((await run(['completion', 'fish'])).code).toBe(2);
  });
});
