import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, readState, tempDir } from '../helpers/cli.js';

// Git hooks, CI guards and people: check, hook, with-lock, directory locks, reasons, force release, the
// event log, status filters and watch, completion. Real git repositories and child processes throughout.

let ws: string;
beforeEach(() => {
  ws = tempDir();
});

const run = (args: string[], env?: Record<string, string | undefined>, input?: string) => cli(args, { cwd: ws, env, input });
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' }) });
  return r;
};

function gitRepo(): string {
  const repo = tempDir('harn-repo-');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 't@e');
  git(repo, 'config', 'user.name', 't');
  return repo;
}

describe('directory locks and reasons', () => {
  it('a directory lock and a file lock under it conflict both ways; holder and refusals name the directory and the reason', () => {
    expect(run(['lock', 'src/api/', '--agent', '1', '--reason', 'renaming the API', '--ttl', '1h']).code).toBe(0);
    const refused = run(['lock', 'src/api/users.ts', '--agent', '2']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/src\/api\/users\.ts is held by agent 1 \(agent-1\) through src\/api\/ \(reason: renaming the API\)/);
    expect(run(['holder', 'src/api/users.ts']).stdout).toMatch(/through src\/api\/ \(reason: renaming the API\)/);
    expect(run(['lock', 'src/apiary.ts', '--agent', '2']).code).toBe(0);
    const holders = JSON.parse(run(['--json', 'holder', 'src/api/deep/x.ts']).stdout);
    expect(holders[0].holder).toMatchObject({ id: 1, held_path: 'src/api/', reason: 'renaming the API' });
    // The other way round: a file lock blocks its directory.
    expect(run(['lock', 'lib/util.ts', '--agent', '2']).code).toBe(0);
    expect(run(['lock', 'lib/', '--agent', '1']).code).toBe(1);
    // Reasons live under the one extension member; the seed's fields are untouched.
    const raw = JSON.parse(fs.readFileSync(path.join(ws, '.harn/agents.json'), 'utf8'));
    expect(Object.keys(raw)).toEqual(['next_id', 'agents', 'harn']);
    expect(raw.harn).toEqual({ reasons: { 1: { 'src/api/': 'renaming the API' } } });
    expect(Object.keys(raw.agents[0])).toEqual(['id', 'name', 'state', 'last_seen_ms', 'edit_count', 'locked_paths']);
  });

  it('status shows reasons; --locks lists one row per lock by expiry; --path and --agent filter', () => {
    run(['lock', 'a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'slow one']);
    run(['lock', 'src/b.ts', '--agent', '2', '--ttl', '1m']);
    expect(run(['status', '--table']).stdout).toMatch(/a\.ts \(\d+m\d*s? left: slow one\)|a\.ts \(59m\d+s left: slow one\)/);
    const locks = JSON.parse(run(['--json', 'status', '--locks']).stdout);
    expect(locks.locks.map((l: { path: string }) => l.path)).toEqual(['src/b.ts', 'a.ts']);
    expect(locks.locks[1]).toMatchObject({ holder: { id: 1, name: 'agent-1' }, reason: 'slow one' });
    expect(run(['status', '--locks', '--table']).stdout).toMatch(/│ path +│ holder +│ reason +│ time left │/);
    expect(JSON.parse(run(['--json', 'status', '--path', 'src/']).stdout).agents.map((a: { id: number }) => a.id)).toEqual([2]);
    expect(JSON.parse(run(['--json', 'status', '--agent', '1']).stdout).agents.map((a: { id: number }) => a.id)).toEqual([1]);
  });

  it('crashed agents holding nothing are hidden unless --all', () => {
    run(['register', 'gone-quiet']);
    run(['register', 'alive']);
    run(['heartbeat', '2']);
    run(['config', 'set', 'agent-timeout', '1ms']);
    run(['reap']);
    run(['config', 'unset', 'agent-timeout']);
    run(['heartbeat', '2']);
    const plain = JSON.parse(run(['--json', 'status']).stdout);
    expect(plain.agents.map((a: { id: number }) => a.id)).toEqual([2]);
    expect(plain.hidden).toBe(1);
    expect(run(['status', '--table']).stdout).toMatch(/1 crashed or gone agent holding nothing hidden; --all shows them/);
    expect(JSON.parse(run(['--json', 'status', '--all']).stdout).agents.map((a: { id: number }) => a.id)).toEqual([1, 2]);
  });
});

describe('release --force and the event log', () => {
  it('breaks another agent\'s lock, needs a reason, and is recorded with reaps in events.jsonl', () => {
    run(['lock', 'f.ts', '--agent', '1', '--ttl', '1h', '--reason', 'mine']);
    expect(run(['release', '--force', 'f.ts']).code).toBe(2);
    const forced = JSON.parse(run(['--json', 'release', '--force', 'f.ts', '--reason', 'agent 1 is stuck', '--agent', '9']).stdout);
    expect(forced.broken).toEqual([{ path: 'f.ts', holder: { id: 1, name: 'agent-1' }, expires_ms: expect.any(Number), lock_reason: 'mine' }]);
    expect(run(['holder', 'f.ts']).code).toBe(1);
    run(['register', 'silent']);
    run(['config', 'set', 'agent-timeout', '1ms']);
    run(['reap']);
    const log = JSON.parse(run(['--json', 'log']).stdout);
    expect(log.events.map((e: { type: string }) => e.type)).toEqual(['force-release', 'reap', 'reap']);
    expect(log.events[0]).toMatchObject({ by: 9, reason: 'agent 1 is stuck', broken: [{ path: 'f.ts' }] });
    expect(run(['log']).stdout).toMatch(/force-release by agent 9: f\.ts \(held by agent 1 \(agent-1\)\); reason: agent 1 is stuck/);
    expect(JSON.parse(run(['--json', 'log', '--since', '1h']).stdout).events).toHaveLength(3);
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
  it('exits 1 listing conflicts held by others, 0 for the caller\'s own locks; HARN_GUARD warn and off', () => {
    run(['lock', 'a.ts', '--agent', '1', '--reason', 'editing']);
    const refused = run(['check', 'a.ts', 'b.ts']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^a\.ts: held by agent 1 \(agent-1\) \(reason: editing\), expires in \d+s\nharn-agents: 1 of 2 paths are held by other agents\nharn-agents: if you are agent 1, run as it: HARN_AGENT_ID=1 git commit \.\.\.; .*HARN_GUARD=warn .*--no-verify\n$/);
    expect(run(['check', 'a.ts'], { HARN_AGENT_ID: '1' }).code).toBe(0);
    expect(run(['check', 'a.ts', '--agent', '1']).code).toBe(0);
    const warn = run(['check', 'a.ts'], { HARN_GUARD: 'warn' });
    expect(warn.code).toBe(0);
    expect(warn.stderr).toMatch(/warning: 1 of 1 paths are held/);
    expect(run(['check', 'a.ts'], { HARN_GUARD: 'off' })).toMatchObject({ code: 0, stderr: '' });
    expect(run(['check', 'a.ts'], { HARN_GUARD: 'maybe' }).code).toBe(2);
    expect(JSON.parse(run(['--json', 'check', 'a.ts']).stdout)).toMatchObject({ checked: 1, conflicts: [{ path: 'a.ts', holder: { id: 1 }, reason: 'editing' }] });
  });

  it('--stdin reads newline- or NUL-separated paths, spaces and non-ASCII intact; paths outside are skipped', () => {
    run(['lock', 'dir with space/ünï.ts', '--agent', '1']);
    expect(run(['check', '--stdin'], {}, 'other.ts\ndir with space/ünï.ts\n').code).toBe(1);
    expect(run(['check', '--stdin', '-z'], {}, 'x\0dir with space/ünï.ts\0/etc/passwd\0').code).toBe(1);
    expect(run(['check', '--stdin', '-z'], {}, 'x\0y\0').code).toBe(0);
  });

  it('--staged checks the index: both names of a rename, spaces and non-ASCII names', () => {
    const repo = gitRepo();
    fs.writeFileSync(path.join(repo, 'old name.txt'), 'x');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
    git(repo, 'mv', 'old name.txt', 'nëw name.txt');
    const r = cli(['lock', 'old name.txt', '--agent', '1'], { cwd: repo });
    expect(r.code).toBe(0);
    const checked = cli(['--json', 'check', '--staged'], { cwd: repo });
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout)).toMatchObject({ checked: 2, conflicts: [{ path: 'old name.txt' }] });
    cli(['release', 'old name.txt', '--agent', '1'], { cwd: repo });
    cli(['lock', 'nëw name.txt', '--agent', '1'], { cwd: repo });
    expect(cli(['check', '--staged'], { cwd: repo }).code).toBe(1);
    expect(cli(['check', '--staged'], { cwd: repo, env: { HARN_AGENT_ID: '1' } }).code).toBe(0);
  });
});

describe('hook install | uninstall | status', () => {
  const hookEnv = (repo: string, extra: Record<string, string> = {}) =>
    cleanEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', HARN_WORKSPACE: repo, ...extra });

  it('installs pre-commit that refuses a commit touching a path another agent holds; idempotent; status', () => {
    const repo = gitRepo();
    expect(cli(['hook', 'status'], { cwd: repo }).code).toBe(1);
    expect(cli(['hook', 'install'], { cwd: repo }).stdout).toMatch(/pre-commit: installed\npre-push: installed/);
    expect(cli(['hook', 'install'], { cwd: repo }).stdout).toMatch(/pre-commit: already installed/);
    expect(cli(['hook', 'status'], { cwd: repo })).toMatchObject({ code: 0 });
    fs.writeFileSync(path.join(repo, 'held.txt'), 'x');
    cli(['lock', 'held.txt', '--agent', '1', '--reason', 'mine'], { cwd: repo });
    git(repo, 'add', 'held.txt');
    const refused = spawnSync('git', ['commit', '-qm', 'x'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/held\.txt: held by agent 1 \(agent-1\) \(reason: mine\)/);
    const asHolder = spawnSync('git', ['commit', '-qm', 'x'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo, { HARN_AGENT_ID: '1' }) });
    expect(asHolder.status, asHolder.stderr).toBe(0);
  });

  it('keeps and still runs a hook that was there, and uninstall restores it exactly', () => {
    const repo = gitRepo();
    const own = path.join(repo, '.git/hooks/pre-commit');
    const original = '#!/bin/sh\necho "my own hook ran" >&2\nexit 0\n';
    fs.writeFileSync(own, original, { mode: 0o755 });
    expect(cli(['hook', 'install'], { cwd: repo }).stdout).toMatch(/kept as pre-commit\.harn-previous and still runs first/);
    fs.writeFileSync(path.join(repo, 'f.txt'), 'x');
    git(repo, 'add', 'f.txt');
    const committed = spawnSync('git', ['commit', '-qm', 'x'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(committed.status, committed.stderr).toBe(0);
    expect(committed.stderr).toMatch(/my own hook ran/);
    expect(cli(['hook', 'uninstall'], { cwd: repo }).stdout).toMatch(/pre-commit: removed; the previous hook is back/);
    expect(fs.readFileSync(own, 'utf8')).toBe(original);
    expect(fs.statSync(own).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(path.join(repo, '.git/hooks/pre-push'))).toBe(false);
    expect(fs.existsSync(`${own}.harn-previous`)).toBe(false);
  });

  it('honours core.hooksPath and works from a linked worktree', () => {
    const repo = gitRepo();
    git(repo, 'config', 'core.hooksPath', 'custom-hooks');
    expect(cli(['hook', 'install'], { cwd: repo }).code).toBe(0);
    expect(fs.existsSync(path.join(repo, 'custom-hooks/pre-commit'))).toBe(true);
    git(repo, 'config', '--unset', 'core.hooksPath');
    fs.writeFileSync(path.join(repo, 'f'), 'x');
    git(repo, 'add', 'f');
    git(repo, 'commit', '-qm', 'init');
    const tree = path.join(tempDir('harn-wt-'), 'wt');
    expect(git(repo, 'worktree', 'add', '-q', tree).status).toBe(0);
    expect(cli(['hook', 'install'], { cwd: tree }).code).toBe(0);
    expect(fs.existsSync(path.join(repo, '.git/hooks/pre-commit'))).toBe(true);
  });

  it('pre-push refuses to push commits that touch a path another agent holds', () => {
    const remote = tempDir('harn-remote-');
    git(remote, 'init', '-q', '--bare');
    const repo = gitRepo();
    git(repo, 'remote', 'add', 'origin', remote);
    fs.writeFileSync(path.join(repo, 'base.txt'), 'x');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'base');
    expect(git(repo, 'push', '-q', 'origin', 'main').status).toBe(0);
    cli(['hook', 'install'], { cwd: repo });
    fs.writeFileSync(path.join(repo, 'pushed file.txt'), 'y');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'change', '--no-verify');
    cli(['lock', 'pushed file.txt', '--agent', '4'], { cwd: repo });
    const refused = spawnSync('git', ['push', '-q', 'origin', 'main'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/pushed file\.txt: held by agent 4/);
    cli(['release', 'pushed file.txt', '--agent', '4'], { cwd: repo });
    const pushed = spawnSync('git', ['push', '-q', 'origin', 'main'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(pushed.status, pushed.stderr).toBe(0);
  });
});

describe('with-lock', () => {
  it('runs the command holding the locks, exits with its code, then releases and unregisters', () => {
    const probe = `${process.execPath} ${BIN} --json holder data.db`;
    const result = run(['with-lock', 'data.db', '--', 'sh', '-c', `${probe}; exit 7`]);
    expect(result.code).toBe(7);
    const seen = JSON.parse(result.stdout);
    expect(seen[0].holder.name).toBe('with-lock: sh');
    expect(run(['holder', 'data.db']).code).toBe(1);
    expect(readState(ws).agents).toEqual([]);
    const log = JSON.parse(run(['--json', 'log']).stdout);
    expect(log.events[0]).toMatchObject({ type: 'with-lock', paths: ['data.db'], exit_code: 7, program: 'sh' });
    expect(log.events[0]).not.toHaveProperty('command');
  });

  it('from a subdirectory, locks and releases the path as the user names it', () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.mkdirSync(path.join(ws, 'sub'));
    const probe = `${process.execPath} ${BIN} --json holder a.ts`;
    const result = cli(['with-lock', 'a.ts', '--', 'sh', '-c', probe], { cwd: path.join(ws, 'sub') });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)[0]).toMatchObject({ path: 'sub/a.ts', holder: { held_path: 'sub/a.ts' } });
    expect(JSON.parse(run(['--json', 'status', '--all']).stdout).agents).toEqual([]);
  });

  it('refused: exit 1 (or -E N) without running the command, naming the holder', () => {
    run(['lock', 'data.db', '--agent', '5', '--ttl', '1h']);
    const marker = path.join(ws, 'ran');
    const refused = run(['with-lock', 'data.db', '--', 'touch', marker]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/data\.db is held by agent 5/);
    expect(run(['with-lock', 'data.db', '--conflict-exit-code', '75', '--', 'touch', marker]).code).toBe(75);
    expect(fs.existsSync(marker)).toBe(false);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([5]);
  });

  it('renews the locks while a command outlives the TTL', () => {
    const probe = `${process.execPath} ${BIN} holder data.db`;
    const result = run(['with-lock', 'data.db', '--ttl', '1s', '--', 'sh', '-c', `sleep 2.5; ${probe}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^data\.db: agent \d+ \(with-lock/);
  });

  it('with an agent given, holds the locks as that agent and keeps it registered', () => {
    run(['register', 'builder']);
    expect(run(['with-lock', 'out/', '--agent', '1', '--', 'true']).code).toBe(0);
    expect(readState(ws).agents.map((a) => [a.id, a.locked_paths])).toEqual([[1, {}]]);
  });

  it('forwards SIGTERM to the command and still releases', async () => {
    const child = spawn(process.execPath, [BIN, 'with-lock', 'data.db', '--', 'sh', '-c', 'echo started; sleep 30'], { cwd: ws, env: cleanEnv() });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(128 + 15);
    expect(run(['holder', 'data.db']).code).toBe(1);
    expect(readState(ws).agents).toEqual([]);
  });

  it('usage errors: no --, no command, no path', () => {
    expect(run(['with-lock', 'a', 'true']).code).toBe(2);
    expect(run(['with-lock', 'a', '--']).code).toBe(2);
    expect(run(['with-lock', '--', 'true']).code).toBe(2);
  });
});

describe('status --watch and completion', () => {
  it('--watch redraws until SIGINT, then exits 0', async () => {
    run(['lock', 'w.ts', '--agent', '1']);
    const child = spawn(process.execPath, [BIN, 'status', '--watch', '--interval', '100ms'], { cwd: ws, env: cleanEnv() });
    const frames = (text: string): number => text.match(/^1\tagent-1\tactive\t/gm)?.length ?? 0;
    let out = '';
    // Stop once three frames have arrived, however long a loaded machine takes to draw them.
    const threeFrames = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (frames(out) >= 3) resolve();
      }),
    );
    await threeFrames;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(frames(out)).toBeGreaterThanOrEqual(3);
    // Into a pipe each frame is tab-separated rows, no box and no screen-clearing codes.
    expect(out).not.toMatch(/[│┌\x1b]/);
  });

  it('completion bash completes commands and options', () => {
    const script = run(['completion', 'bash']).stdout;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _harn_agents; echo "\${COMPREPLY[*]}"`], {
        encoding: 'utf8',
      }).stdout.trim();
    expect(complete(['harn-agents', 'wi'])).toBe('with-lock');
    expect(complete(['harn-agents', 'lock', '--rea'])).toBe('--reason');
    expect(complete(['harn-agents', 'hook', 'un'])).toBe('uninstall');
    expect(run(['completion', 'zsh']).stdout).toMatch(/bashcompinit/);
    expect(run(['completion', 'fish']).code).toBe(2);
  });
});
