import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, cli, readState, statePath, tempDir, writeState } from '../helpers/cli.js';
import { inProcessCli } from '../helpers/in-process.js';
import { COMMANDS } from '../../src/commands/index.js';

let ws: string;
beforeEach(() => {
  ws = tempDir();
});

const run = (args: string[], env?: Record<string, string | undefined>) => cli(args, { cwd: ws, env });
const json = (args: string[], env?: Record<string, string | undefined>) => {
  const result = run(['--json', ...args], env);
  return { ...result, data: result.stdout ? JSON.parse(result.stdout) : undefined };
};

describe('register', () => {
  it('prints the new id alone on stdout and stores the agent', () => {
    const first = run(['register', 'editor']);
    expect(first).toMatchObject({ code: 0, stdout: '1\n', stderr: '' });
    expect(run(['register', 'ci']).stdout).toBe('2\n');
    const state = readState(ws);
    expect(state.next_id).toBe(3);
    expect(state.agents.map((a) => [a.id, a.name, a.state, a.edit_count])).toEqual([
      [1, 'editor', 'active', 0],
      [2, 'ci', 'active', 0],
    ]);
  });

  it('--id registers under that id and pushes next_id past it', () => {
    expect(run(['register', 'x', '--id', '40']).stdout).toBe('40\n');
    expect(run(['register', 'y']).stdout).toBe('41\n');
  });

  it('--json prints {id, name}', () => {
    expect(json(['register', 'editor']).data).toEqual({ id: 1, name: 'editor' });
  });

  it.each([
    [['register', ''], /name must not be empty/],
    [['register'], /missing required argument 'name'/],
    [['register', 'x', '--id', '-1'], /./],
    [['register', 'x', '--id', '1e3'], /not an agent id/],
    [['register', 'x', '--id', '9007199254740993'], /not an agent id/],
  ])('%j is a usage error (exit 2, one line)', (args, message) => {
    const result = run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(statePath(ws))).toBe(false);
  });
});

describe('lock, holder, release', () => {
  it('grants, refuses naming the holder, and hands over after release', () => {
    run(['register', 'editor']);
    run(['register', 'ci']);
    const granted = run(['lock', 'src/a.ts', '--agent', '1', '--ttl', '5m']);
    expect(granted.code).toBe(0);
    expect(granted.stdout).toMatch(/^locked src\/a\.ts for agent 1 \(editor\), expires in 4m59s|5m/);

    const refused = run(['lock', 'src/a.ts', 'src/b.ts', '--agent', '2']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/src\/a\.ts is held by agent 1 \(editor\), expires in \d/);
    // All or nothing: b was free but is not locked either.
    expect(readState(ws).agents.find((a) => a.id === 2)?.locked_paths).toEqual({});

    const who = run(['holder', 'src/a.ts', 'src/b.ts']);
    expect(who.code).toBe(0);
    expect(who.stdout).toMatch(/^src\/a\.ts: agent 1 \(editor\), expires in .+\nsrc\/b\.ts: free\n$/);

    expect(run(['release', 'src/a.ts', '--agent', '1'])).toMatchObject({ code: 0, stdout: 'released src/a.ts\n' });
    expect(run(['holder', 'src/a.ts']).code).toBe(1);
    expect(run(['lock', 'src/a.ts', 'src/b.ts', '--agent', '2']).code).toBe(0);
  });

  it('--json shapes of lock (granted and refused), holder and release', () => {
    run(['register', 'editor']);
    run(['register', 'ci']);
    const granted = json(['lock', 'a', '--agent', '1', '--ttl', '10s']);
    expect(granted.data).toMatchObject({ granted: true, agent: 1, paths: [{ path: 'a', holder: { id: 1, name: 'editor' } }] });
    const expires = granted.data.paths[0].expires_ms as number;
    expect(expires).toBe(readState(ws).agents[0]?.locked_paths.a);

    const refused = json(['lock', 'a', 'b', '--agent', '2']);
    expect(refused.code).toBe(1);
    expect(refused.data).toEqual({
      granted: false,
      agent: 2,
      now_ms: expect.any(Number),
      paths: [
        { path: 'a', holder: { id: 1, name: 'editor' }, expires_ms: expires, held_path: 'a', reason: null },
        { path: 'b', holder: null, expires_ms: null },
      ],
    });

    const holders = json(['holder', 'a', 'b']);
    expect(holders.data).toEqual([
      { path: 'a', holder: { id: 1, name: 'editor', expires_ms: expires, held_path: 'a', reason: null } },
      { path: 'b', holder: null },
    ]);

    expect(json(['release', 'a', 'b', '--agent', '1']).data).toEqual({ agent: 1, now_ms: expect.any(Number), released: ['a'], not_held: ['b'] });
  });

  it('takes the agent from HARN_AGENT_ID and refuses when there is none', () => {
    run(['register', 'editor']);
    expect(run(['lock', 'f'], { HARN_AGENT_ID: '1' }).code).toBe(0);
    const none = run(['lock', 'g']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no agent given: pass --agent or set HARN_AGENT_ID/);
    expect(run(['lock', 'g'], { HARN_AGENT_ID: 'abc' }).code).toBe(2);
  });

  it('re-locking extends, and a lock by an unknown agent registers agent-<id>', () => {
    expect(run(['lock', 'f', '--agent', '9', '--ttl', '1s']).code).toBe(0);
    const first = readState(ws).agents[0]?.locked_paths.f ?? 0;
    expect(run(['lock', 'f', '--agent', '9', '--ttl', '1h']).code).toBe(0);
    const state = readState(ws);
    expect(state.agents[0]?.name).toBe('agent-9');
    expect(state.agents[0]?.locked_paths.f).toBeGreaterThan(first + 3_000_000);
    expect(state.next_id).toBe(10);
  });

  it('--wait gets the lock once the holder lets it go', async () => {
    run(['register', 'a']);
    run(['register', 'b']);
    run(['lock', 'f', '--agent', '1', '--ttl', '1500ms']);
    const waited = run(['lock', 'f', '--agent', '2', '--wait', '20s']);
    expect(waited.code).toBe(0);
    expect(run(['--json', 'holder', 'f']).stdout).toMatch(/"id": 2/);
  });

  it('--wait gives up with exit 1 when the wait runs out', () => {
    run(['register', 'a']);
    run(['lock', 'f', '--agent', '1', '--ttl', '1h']);
    const started = Date.now();
    const refused = run(['lock', 'f', '--agent', '2', '--wait', '600ms']);
    expect(refused.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(refused.stderr).toMatch(/held by agent 1 \(a\)/);
  });

  it('a refused lock leaves the state file byte for byte as it was', () => {
    run(['register', 'a']);
    run(['lock', 'f', '--agent', '1']);
    const before = fs.readFileSync(statePath(ws));
    expect(run(['lock', 'f', '--agent', '2']).code).toBe(1);
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
  });
});

describe('heartbeat, note-edit, unregister, reap', () => {
  it('heartbeat refreshes, registers unknown ids, and revives a crashed agent', () => {
    run(['register', 'a']);
    const hb = json(['heartbeat', '1']);
    expect(hb.data).toMatchObject({ id: 1, name: 'a', state: 'active' });
    expect(run(['heartbeat'], { HARN_AGENT_ID: '5' }).stdout).toBe('agent 5 (agent-5) is active\n');
    // The workspace's timeout reaps them (a call's --agent-timeout only sets the timeout of agents it creates).
    run(['config', 'set', 'agent-timeout', '1ms']);
    expect(run(['reap']).stdout).toMatch(/reaped agent 1 \(a\)/);
    expect(readState(ws).agents[0]?.state).toBe('crashed');
    expect(json(['heartbeat', '1']).data.state).toBe('active');
    expect(run(['heartbeat']).code).toBe(2);
  });

  it('note-edit counts edits; an unknown agent exits 1 and counts nothing', () => {
    run(['register', 'a']);
    run(['note-edit', '1']);
    expect(json(['note-edit', '1']).data).toEqual({ counted: true, id: 1, name: 'a', edit_count: 2 });
    const unknown = run(['note-edit', '7']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/agent 7 is not registered/);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([1]);
  });

  it('unregister removes the agent and frees its locks; an unknown id is not an error', () => {
    run(['register', 'a']);
    run(['lock', 'f', '--agent', '1']);
    expect(json(['unregister', '1']).data).toEqual({ id: 1, name: 'a', removed: true });
    expect(run(['holder', 'f']).code).toBe(1);
    expect(run(['unregister', '1'])).toMatchObject({ code: 0, stdout: 'agent 1 is not registered; nothing to do\n' });
  });

  it('every command reaps silent agents first, releasing their locks', () => {
    run(['register', 'a']);
    run(['lock', 'f', '--agent', '1', '--ttl', '1h']);
    // A call's own timeout never reaps another's agent; the workspace's 1 ms timeout does, by the next call.
    expect(run(['holder', 'f'], { HARN_AGENT_TIMEOUT: '1ms' }).code).toBe(0);
    run(['config', 'set', 'agent-timeout', '1ms']);
    expect(run(['holder', 'f']).code).toBe(1);
    expect(readState(ws).agents[0]).toMatchObject({ state: 'crashed', locked_paths: {} });
    expect(json(['reap']).data).toEqual({ reaped: [] });
  });

  it('reap --json names the agents it reaped', () => {
    run(['register', 'a']);
    run(['config', 'set', 'agent-timeout', '1ms']);
    expect(json(['reap']).data).toEqual({ reaped: [{ id: 1, name: 'a' }] });
  });
});

describe('status', () => {
  it('prints a table without colour when not a TTY, and escapes hostile names', () => {
    run(['register', 'editor']);
    run(['register', 'evil\u001b[2J\rname\u202e']);
    run(['lock', 'src/a.ts', '--agent', '1']);
    const out = run(['status', '--table']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/│ id │ name/);
    expect(out.stdout).toMatch(/editor/);
    expect(out.stdout).toMatch(/src\/a\.ts \(\d+s left\)/);
    expect(out.stdout).toContain('evil\\x1b[2J\\rname\\u202e');
    expect(out.stdout).not.toContain('\u001b');
    expect(out.stdout).not.toContain('\r');
  });

  it('--json has the documented shape and lists live locks only', () => {
    run(['register', 'editor']);
    run(['lock', 'a', '--agent', '1', '--ttl', '1h']);
    run(['lock', 'b', '--agent', '1', '--ttl', '1ms']);
    const before = Date.now();
    const status = json(['status']);
    expect(status.code).toBe(0);
    expect(status.data.now_ms).toBeGreaterThanOrEqual(before);
    expect(status.data.workspace).toBe(ws);
    expect(status.data.agents).toEqual([
      {
        id: 1,
        name: 'editor',
        state: 'active',
        last_seen_ms: expect.any(Number),
        edit_count: 0,
        timeout_ms: 45_000,
        own_timeout: false,
        worktree: null,
        branch: null,
        locks: [{ path: 'a', expires_ms: expect.any(Number), reason: null }],
      },
    ]);
    expect(status.data.settings.map((s: { key: string; value_ms: number; source: string }) => [s.key, s.value_ms, s.source])).toEqual([
      ['agent-timeout', 45_000, 'default'],
      ['lock-ttl', 30_000, 'default'],
      ['retention', 604_800_000, 'default'],
    ]);
  });

  it('on an empty workspace says so and creates nothing, not even .harn/', () => {
    expect(run(['status', '--table'])).toMatchObject({ code: 0, stdout: `no agents to show in ${ws}\n` });
    // Into a pipe stdout holds only rows (none here); the note goes to stderr.
    expect(run(['status'])).toMatchObject({ code: 0, stdout: '', stderr: `no agents to show in ${ws}\n` });
    expect(run(['holder', 'x']).code).toBe(1);
    expect(run(['reap']).code).toBe(0);
    expect(run(['release', 'x', '--agent', '1']).code).toBe(0);
    expect(json(['status']).data.agents).toEqual([]);
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });
});

describe('the tool', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(run(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  // Every command the declarations give the CLI (src/commands/index.ts), run in-process: no spawn needed.
  it.each(COMMANDS.filter((c) => c.cli).map((c) => c.name))(
    '%s --help shows an example and exits 0',
    async (command) => {
      const help = await inProcessCli({ ws }).run([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Examples:\n {2}\$ .*harn-agents /);
    },
  );

  it('--help of the tool lists commands, exit codes and an example', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 done, 1/);
    expect(help.stdout).toMatch(/register/);
    expect(help.stdout).toMatch(/\$ ID=\$\(harn-agents register ci\)/);
  });

  it.each([[['bogus']], [['lock', 'f', '--agent', '1', '--bogus']], [[]], [['lock', 'f', '--agent', '1', '--ttl', '10parsecs']]])(
    '%j is a one-line usage error',
    (args) => {
      const result = run(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^harn-agents: /);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    },
  );

  it('a reader that closes the pipe early gets no stack trace', () => {
    for (let i = 0; i < 30; i++) run(['lock', `file-${i}.ts`, '--agent', '1']);
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --json status | head -c 20 >/dev/null; echo "exit \${PIPESTATUS[0]}"`], {
      cwd: ws,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('exit 0\n');
  });

  it('global options work after the command name too', () => {
    expect(run(['register', 'a', '--json']).stdout).toBe('{\n  "id": 1,\n  "name": "a"\n}\n');
  });
});

describe('exit 3: a state file the tool cannot understand is left byte for byte', () => {
  it.each([
    ['not JSON', '{"next_id": 1, "agents": ['],
    ['an unknown state', '{"next_id":2,"agents":[{"id":1,"name":"a","state":"zombie","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}'],
    ['an id beyond 2^53', '{"next_id":2,"agents":[{"id":9007199254740993,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}'],
    ['wrong types', '{"next_id":"2","agents":[]}'],
  ])('%s', (_what, text) => {
    writeState(ws, text);
    for (const args of [['register', 'x'], ['status'], ['holder', 'f'], ['lock', 'f', '--agent', '1']]) {
      const result = run(args);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(new RegExp(`^harn-agents: state file ${statePath(ws).replace(/[.]/g, '\\.')} is invalid: .+; it was left untouched \\(run 'harn-agents doctor'\\)\\n$`));
    }
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
  });

  it('a .harn that is a file', () => {
    fs.writeFileSync(path.join(ws, '.harn'), 'not a dir');
    const result = run(['register', 'a']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/\.harn is a regular file, not a directory/);
    expect(fs.readFileSync(path.join(ws, '.harn'), 'utf8')).toBe('not a dir');
  });

  it('a state file that is a directory', () => {
    fs.mkdirSync(statePath(ws), { recursive: true });
    const result = run(['register', 'a']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/is a directory/);
  });
});
