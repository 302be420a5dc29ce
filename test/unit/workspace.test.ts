import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { readState, statePath, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';
import { FileStore } from '../../src/store/file-store.js';
import { findWorkspace } from '../../src/store/workspace.js';

// Which workspace a call works in, the seed layout, and a registry ahead of the clock: in-process through the
// CLI's own wiring (runCli), with the directory the call is given as its cwd. The clock is the wall clock at
// the start of the test, held still (the registry's clock check compares with the state file's mtime).

let ws: string;
let T: number;
beforeEach(() => {
  ws = tempDir();
  T = Date.now();
});

/** One call in `cwd`, in-process, on the still clock. */
const cli = (args: string[], options: { cwd: string; env?: Record<string, string> }) =>
  inProcessCli({ ws: options.cwd, clock: testClock(T) }).run(args, options.env);

describe('workspace discovery', () => {
  it('uses the nearest ancestor holding .harn/, and takes paths relative to the current directory', async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.mkdirSync(path.join(ws, 'src', 'deep'), { recursive: true });
    const sub = path.join(ws, 'src', 'deep');
    expect((await cli(['lock', 'x.ts', '../y.ts', '--agent', '1'], { cwd: sub })).code).toBe(0);
    expect(Object.keys(readState(ws).agents[0]?.locked_paths ?? {})).toEqual(['src/deep/x.ts', 'src/y.ts']);
    expect(await cli(['holder', 'src/deep/x.ts'], { cwd: ws })).toEqual({ code: 0, stdout: 'src/deep/x.ts: agent 1 (agent-1), expires in 30s\n', stderr: '' });
    expect(await cli(['holder', path.join(ws, 'src/y.ts')], { cwd: sub })).toEqual({ code: 0, stdout: 'src/y.ts: agent 1 (agent-1), expires in 30s\n', stderr: '' });
  });

  it('falls back to the git top-level when no .harn/ exists', async () => {
    expect(spawnSync('git', ['init', '-q', ws]).status).toBe(0);
    const sub = path.join(ws, 'pkg');
    fs.mkdirSync(sub);
    expect(await cli(['register', 'a'], { cwd: sub })).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(fs.existsSync(statePath(ws))).toBe(true);
    expect(fs.existsSync(path.join(sub, '.harn'))).toBe(false);
  });

  it('falls back to the current directory outside git', async () => {
    const sub = path.join(ws, 'plain');
    fs.mkdirSync(sub);
    expect(await cli(['register', 'a'], { cwd: sub })).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(fs.existsSync(statePath(sub))).toBe(true);
    expect(fs.existsSync(statePath(ws))).toBe(false);
  });

  it('HARN_WORKSPACE wins over discovery', async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    const other = tempDir();
    expect(await cli(['register', 'a'], { cwd: ws, env: { HARN_WORKSPACE: other } })).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(fs.existsSync(statePath(other))).toBe(true);
    expect(fs.existsSync(statePath(ws))).toBe(false);
    expect(await cli(['status'], { cwd: ws, env: { HARN_WORKSPACE: path.join(ws, 'nope') } })).toEqual({ code: 2, stdout: '', stderr: `harn-agents: HARN_WORKSPACE ${ws}/nope does not exist\n` });
  });

  it('-C DIR runs as if started in DIR', async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.mkdirSync(path.join(ws, 'src'));
    const elsewhere = tempDir();
    expect((await cli(['-C', path.join(ws, 'src'), 'lock', 'a.ts', '--agent', '1'], { cwd: elsewhere })).code).toBe(0);
    expect(Object.keys(readState(ws).agents[0]?.locked_paths ?? {})).toEqual(['src/a.ts']);
    expect(await cli(['-C', 'src', 'holder', 'a.ts'], { cwd: ws })).toEqual({ code: 0, stdout: 'src/a.ts: agent 1 (agent-1), expires in 30s\n', stderr: '' });
    expect(await cli(['-C', 'missing', 'status'], { cwd: ws })).toEqual({ code: 2, stdout: '', stderr: `harn-agents: directory ${ws}/missing does not exist\n` });
    expect(fs.existsSync(statePath(elsewhere))).toBe(false);
  });

  it('a path outside the workspace is bad input and changes nothing', async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    for (const [bad, message] of [
      ['../outside.ts', `harn-agents: '../outside.ts' is outside the workspace ${ws}\n`],
      ['/etc/passwd', `harn-agents: '/etc/passwd' is outside the workspace ${ws}\n`],
      ['', 'harn-agents: a path must not be empty (an unset shell variable?)\n'],
      ['.', "harn-agents: '.' is the workspace root itself, not a path inside it\n"],
    ] as const) {
      expect({ bad, result: await cli(['lock', bad, '--agent', '1'], { cwd: ws }) }).toEqual({ bad, result: { code: 2, stdout: '', stderr: message } });
    }
    expect(fs.existsSync(statePath(ws))).toBe(false);
  });

  it("an empty path among others is refused in the CLI's words by every command that takes paths", async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    const message = 'harn-agents: a path must not be empty (an unset shell variable?)\n';
    for (const argv of [['lock', 'a.ts', '', '--agent', '1'], ['holder', 'a.ts', ''], ['release', '', '--agent', '1'], ['check', 'a.ts', ''], ['with-lock', 'a.ts', '', '--', 'true'], ['status', '--path', '']]) {
      expect({ argv, result: await cli(argv, { cwd: ws }) }).toEqual({ argv, result: { code: 2, stdout: '', stderr: message } });
    }
    expect(fs.existsSync(statePath(ws))).toBe(false);
    // with-lock's command may take an empty argument (sh -c ''): only the paths before -- are paths.
    expect(await cli(['with-lock', 'w.ts', '--', 'sh', '-c', ''], { cwd: ws })).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('compatibility with the seed layout', () => {
  it('a file in the seed exact layout is read, and written back losslessly by a change elsewhere', async () => {
    const seed =
      '{"next_id":8,"agents":[{"id":7,"name":"rust-embedder","state":"active","last_seen_ms":' +
      `${T}` +
      ',"edit_count":12,"locked_paths":{"src/lib.rs":' +
      `${T + 600_000}` +
      // Crashed an hour ago: within the retention period, so a write keeps it (older history is dropped).
      '}},{"id":3,"name":"old","state":"crashed","last_seen_ms":' +
      `${T - 3_600_000}` +
      ',"edit_count":1,"locked_paths":{}}]}';
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(statePath(ws), seed);
    expect(await cli(['holder', 'src/lib.rs'], { cwd: ws })).toEqual({ code: 0, stdout: 'src/lib.rs: agent 7 (rust-embedder), expires in 10m\n', stderr: '' });
    // Nothing changed: the file is not rewritten at all.
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(seed);
    // A change appends the new agent and keeps every byte of the rest.
    expect(await cli(['register', 'cli'], { cwd: ws })).toEqual({ code: 0, stdout: '8\n', stderr: '' });
    const after = fs.readFileSync(statePath(ws), 'utf8');
    expect(after.startsWith(seed.slice(0, -2).replace('"next_id":8', '"next_id":9'))).toBe(true);
    expect(JSON.parse(after).agents.slice(0, 2)).toEqual(JSON.parse(seed).agents);
  });

  it('missing next_id and agents default as in the seed', async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(statePath(ws), '{}');
    expect(await cli(['register', 'a'], { cwd: ws })).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(`{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":${T},"edit_count":0,"locked_paths":{}}]}\n`);
  });
});

describe('when the registry is ahead of the wall clock', () => {
  it('the registry time does not go back: no early expiry or reap, and status says how far and which side moved', async () => {
    const ahead = T + 3_600_000; // the file was written by a clock an hour ahead of ours
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.writeFileSync(
      statePath(ws),
      JSON.stringify({
        next_id: 3,
        agents: [
          { id: 1, name: 'a', state: 'active', last_seen_ms: ahead, edit_count: 0, locked_paths: { f: ahead + 10_000 } },
          { id: 2, name: 'b', state: 'active', last_seen_ms: ahead - 40_000, edit_count: 0, locked_paths: {} },
        ],
      }),
    );
    const granted = JSON.parse((await cli(['--json', 'lock', 'g', '--agent', '3', '--ttl', '30s'], { cwd: ws })).stdout);
    expect(granted.now_ms).toBe(ahead);
    expect(granted.locks[0].expires_ms).toBe(ahead + 30_000);
    expect(await cli(['lock', 'f', '--agent', '3'], { cwd: ws })).toEqual({ code: 1, stdout: '', stderr: 'refused: f is held by agent 1 (a), expires in 10s\nnothing was locked for agent 3\n' });

    const status = JSON.parse((await cli(['--json', 'status'], { cwd: ws })).stdout);
    expect(status.clock_behind_ms).toBe(3_600_000);
    expect(status.agents.map((a: { state: string }) => a.state)).toEqual(['active', 'active', 'active']);

    const text = await cli(['status'], { cwd: ws });
    expect(text.code).toBe(0);
    // The file was just written (its mtime is now) with stamps an hour ahead: a writer ahead, not our clock.
    expect(text.stderr).toMatch(/^harn-agents: warning: the registry's time is 1h ahead of this machine's clock: a call with a clock ahead wrote it/);
    expect(text.stderr.split('\n')).toHaveLength(2);
  });
});

describe('reading the state file', () => {
  it('a quiet query takes the file and its write time from one open: no second stat of it', async () => {
    const { run } = inProcessCli({ ws });
    expect((await run(['register', 'a'])).code).toBe(0);
    const file = statePath(ws);
    const stat = vi.spyOn(fs, 'statSync');
    const lstat = vi.spyOn(fs, 'lstatSync');
    const open = vi.spyOn(fs, 'openSync');
    try {
      expect((await run(['status'])).code).toBe(0);
      expect(stat.mock.calls.filter(([p]) => p === file)).toEqual([]);
      expect(lstat.mock.calls.filter(([p]) => p === file)).toEqual([]);
      expect(open.mock.calls.filter(([p]) => p === file)).toHaveLength(1);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('an update checks .harn/ once, then reads the file under the lock', async () => {
    const workspace = findWorkspace(ws, {});
    const store = new FileStore({ workspace, config: DEFAULT_CONFIG, clock: testClock(T) });
    expect(await store.transact('update', ({ registry, nowMs }) => registry.register('a', nowMs))).toBe(1);
    const lstat = vi.spyOn(fs, 'lstatSync');
    try {
      expect(await store.transact('update', ({ registry, nowMs }) => registry.register('b', nowMs))).toBe(2);
      expect(lstat.mock.calls.filter(([p]) => p === workspace.stateDir)).toHaveLength(1);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
