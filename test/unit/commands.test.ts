import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readState, statePath, writeState } from '../helpers/cli.js';
import { inProcessCli, steppingClock, testClock, type TestClock } from '../helpers/in-process.js';
import { CLI_COMMANDS } from '../../src/cli/program.js';

// The commands' use cases through the CLI's own wiring (runCli) over a real workspace and state file, on an
// injected clock: every time in the output is exact, and nothing waits on this machine's speed. What only a
// process shows (the bin itself, a pipe closing) is in test/e2e/commands.test.ts.

let ws: string;
let clock: TestClock;
let run: ReturnType<typeof inProcessCli>['run'];
let json: ReturnType<typeof inProcessCli>['json'];
let T0: number;
const NOT_AN_ID = 'is not an agent id (a whole number from 0 to 9007199254740990)\n';
/** A time of day as the text output shows it (local time, as the user's terminal would). */
const hhmm = (ms: number): string => {
  const at = new Date(ms);
  return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
};
beforeEach(() => {
  ({ ws, clock, run, json } = inProcessCli({ clock: testClock() }));
  T0 = clock.now;
});

describe('register', () => {
  it('prints the new id alone on stdout and stores the agent', async () => {
    const first = await run(['register', 'editor']);
    expect(first).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect((await run(['register', 'ci'])).stdout).toBe('2\n');
    const state = readState(ws);
    expect(state.next_id).toBe(3);
    expect(state.agents.map((a) => [a.id, a.name, a.state, a.edit_count, a.last_seen_ms])).toEqual([
      [1, 'editor', 'active', 0, T0],
      [2, 'ci', 'active', 0, T0],
    ]);
  });

  it('--id registers under that id and pushes next_id past it', async () => {
    expect((await run(['register', 'x', '--id', '40'])).stdout).toBe('40\n');
    expect((await run(['register', 'y'])).stdout).toBe('41\n');
  });

  it('--json prints {id, name}', async () => {
    expect((await json(['register', 'editor'])).data).toEqual({ id: 1, name: 'editor' });
  });

  it.each([
    [['register', ''], 'harn-agents: the agent name must not be empty\n'],
    [['register'], "harn-agents: missing required argument 'name'\n"],
    [['register', 'x', '--id', '-1'], `harn-agents: --id: '-1' ${NOT_AN_ID}`],
    [['register', 'x', '--id', '1e3'], `harn-agents: --id: '1e3' ${NOT_AN_ID}`],
    // Quoted as typed: not the nearest double, 9007199254740992.
    [['register', 'x', '--id', '9007199254740993'], `harn-agents: --id: '9007199254740993' ${NOT_AN_ID}`],
  ])('%j is a usage error (exit 2, one line)', async (args, message) => {
    expect(await run(args)).toEqual({ code: 2, stdout: '', stderr: message });
    expect(fs.existsSync(statePath(ws))).toBe(false);
  });
});

describe('options named as typed', () => {
  it.each([
    [['lock', 'a.ts', '--agent', '1', '--reason', ''], 'harn-agents: --reason must not be empty\n'],
    [['release', 'a.ts', '--agent', '1', '--reason', ''], 'harn-agents: --reason must not be empty\n'],
    [['with-lock', 'a.ts', '--reason', '', '--', 'true'], 'harn-agents: --reason must not be empty\n'],
    [['with-lock', 'a.ts', '--name', '', '--', 'true'], 'harn-agents: --name must not be empty\n'],
  ])('%j names the option in its refusal (exit 2)', async (args, message) => {
    expect(await run(args)).toEqual({ code: 2, stdout: '', stderr: message });
    expect(fs.existsSync(statePath(ws))).toBe(false);
  });
});

describe('one rule for agent names in every face (core/validate.ts)', () => {
  it('with-lock --name takes what register takes, whole: 256 characters, and blank ones', async () => {
    const long = 'n'.repeat(256);
    expect((await run(['with-lock', 'a.ts', '--name', long, '--', 'true'])).code).toBe(0);
    expect((await run(['with-lock', 'b.ts', '--name', '  ', '--', 'true'])).code).toBe(0);
    const names = (await json(['log'])).data.events.filter((e: { type: string }) => e.type === 'with-lock').map((e: { agent: { name: string } }) => e.agent.name);
    expect(names).toEqual([long, '  ']);
    expect((await run(['register', '  '])).code).toBe(0);
  });

  it.each([['register'], ['with-lock']])('%s refuses 257 characters (exit 2)', async (command) => {
    const args = command === 'register' ? ['register', 'n'.repeat(257)] : ['with-lock', 'a.ts', '--name', 'n'.repeat(257), '--', 'true'];
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is longer than 256 characters\n$/);
  });
});

describe('lock, holder, release', () => {
  it('grants, refuses naming the holder, and hands over after release', async () => {
    await run(['register', 'editor']);
    await run(['register', 'ci']);
    const granted = await run(['lock', 'src/a.ts', '--agent', '1', '--ttl', '5m']);
    expect(granted).toEqual({
      code: 0,
      stdout: `locked src/a.ts for agent 1 (editor) until ${hhmm(T0 + 300_000)} (expires in 5m), while agent 1 heartbeats at least every 45s\n`,
      stderr:
        "harn-agents: hint: agent 1 is reaped after 45s without a heartbeat, and its locks go with it; to hold them longer, run 'harn-agents heartbeat 1' more often, run the work under 'harn-agents with-lock', or register the agent with a longer timeout ('harn-agents register NAME --timeout 5m')\n",
    });

    // 30 s on: the lock has 4m30s left, and agent 1 is not yet silent for its 45 s timeout.
    clock.now += 30_000;
    const refused = await run(['lock', 'src/a.ts', 'src/b.ts', '--agent', '2']);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'refused: src/a.ts is held by agent 1 (editor), expires in 4m30s\nnothing was locked for agent 2\n' });
    // All or nothing: b was free but is not locked either.
    expect(readState(ws).agents.find((a) => a.id === 2)?.locked_paths).toEqual({});

    const who = await run(['holder', 'src/a.ts', 'src/b.ts']);
    expect(who).toEqual({ code: 0, stdout: 'src/a.ts: agent 1 (editor), expires in 4m30s\nsrc/b.ts: free\n', stderr: '' });

    expect(await run(['release', 'src/a.ts', '--agent', '1'])).toEqual({ code: 0, stdout: 'released src/a.ts\n', stderr: '' });
    expect((await run(['holder', 'src/a.ts'])).code).toBe(1);
    expect((await run(['lock', 'src/a.ts', 'src/b.ts', '--agent', '2'])).code).toBe(0);
  });

  it('--json shapes of lock (granted and refused), holder and release', async () => {
    await run(['register', 'editor']);
    await run(['register', 'ci']);
    const granted = await json(['lock', 'a', '--agent', '1', '--ttl', '10s']);
    const expires = T0 + 10_000;
    // One shape for a hold everywhere: the lock's own path, kind, mode, slots, agent, expiry and reason.
    const hold = { path: 'a', kind: 'path', mode: 'exclusive', slots: null, agent: { id: 1, name: 'editor' }, expires_ms: expires, reason: null };
    expect(granted.data).toEqual({ granted: true, agent: 1, now_ms: T0, locks: [hold], conflicts: [], retry_after_ms: null, agent_timeout_ms: 45_000 });
    expect(readState(ws).agents[0]?.locked_paths.a).toBe(expires);

    clock.now += 1_000;
    const refused = await json(['lock', 'a', 'b', '--agent', '2']);
    expect(refused.code).toBe(1);
    expect(refused.data).toEqual({
      granted: false,
      agent: 2,
      now_ms: T0 + 1_000,
      locks: [],
      conflicts: [{ path: 'a', holders: [hold], retry_after_ms: 9_000 }],
      retry_after_ms: 9_000,
    });

    const holders = await json(['holder', 'a', 'b']);
    expect(holders.data).toEqual([
      { path: 'a', holders: [hold], retry_after_ms: 9_000 },
      { path: 'b', holders: [], retry_after_ms: null },
    ]);

    expect((await json(['release', 'a', 'b', '--agent', '1'])).data).toEqual({ agent: 1, now_ms: T0 + 1_000, released: ['a'], not_held: ['b'] });
  });

  it('takes the agent from HARN_AGENT_ID and refuses when there is none', async () => {
    await run(['register', 'editor']);
    expect((await run(['lock', 'f'], { HARN_AGENT_ID: '1' })).code).toBe(0);
    expect(await run(['lock', 'g'])).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: no agent given: pass --agent or set HARN_AGENT_ID\n' });
    expect(await run(['lock', 'g'], { HARN_AGENT_ID: 'abc' })).toEqual({ code: 2, stdout: '', stderr: `harn-agents: HARN_AGENT_ID: 'abc' ${NOT_AN_ID}` });
  });

  it('re-locking extends, and a lock by an unknown agent registers agent-<id>', async () => {
    expect((await run(['lock', 'f', '--agent', '9', '--ttl', '1s'])).code).toBe(0);
    expect(readState(ws).agents[0]?.locked_paths.f).toBe(T0 + 1_000);
    clock.now += 500;
    expect((await run(['lock', 'f', '--agent', '9', '--ttl', '1h'])).code).toBe(0);
    const state = readState(ws);
    expect(state.agents[0]?.name).toBe('agent-9');
    expect(state.agents[0]?.locked_paths.f).toBe(T0 + 500 + 3_600_000);
    expect(state.next_id).toBe(10);
  });

  it('--wait gets the lock once the holder lets it go', async () => {
    await run(['register', 'a']);
    await run(['register', 'b']);
    await run(['lock', 'f', '--agent', '1', '--ttl', '1500ms']);
    // Time passes only as the waiter reads the clock (300 ms a read, two reads to its first try): refused
    // at T0 + 600 ms, granted once the 1.5 s have passed, whatever the machine's speed.
    const waiter = inProcessCli({ ws, clock: steppingClock(clock, 300) });
    const waited = await waiter.json(['lock', 'f', '--agent', '2', '--wait', '20s']);
    expect(waited.code).toBe(0);
    expect(waited.data.now_ms).toBeGreaterThanOrEqual(T0 + 1_500);
    expect(waited.data.now_ms).toBeLessThan(T0 + 20_000);
    expect((await json(['holder', 'f'])).data).toMatchObject([{ path: 'f', holders: [{ agent: { id: 2, name: 'b' } }] }]);
  });

  it('--wait gives up with exit 1 when the wait runs out', async () => {
    await run(['register', 'a']);
    await run(['lock', 'f', '--agent', '1', '--ttl', '1h']);
    const waiter = inProcessCli({ ws, clock: steppingClock(clock, 200) });
    const refused = await waiter.run(['lock', 'f', '--agent', '2', '--wait', '600ms']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^refused: f is held by agent 1 \(a\), expires in 59m\d+s\nnothing was locked for agent 2\n$/);
    // The last try came when the wait had run out (its start plus 600 ms), not after the first refusal.
    const start = clock.now;
    const answer = await waiter.json(['lock', 'f', '--agent', '2', '--wait', '600ms']);
    expect(answer.code).toBe(1);
    expect(answer.data).toMatchObject({ granted: false, conflicts: [{ path: 'f', holders: [{ path: 'f', agent: { id: 1, name: 'a' } }] }] });
    expect(answer.data.now_ms).toBeGreaterThanOrEqual(start + 600);
  });

  it('a refused lock leaves the state file byte for byte as it was', async () => {
    await run(['register', 'a']);
    await run(['lock', 'f', '--agent', '1']);
    const before = fs.readFileSync(statePath(ws));
    clock.now += 1_000;
    expect((await run(['lock', 'f', '--agent', '2'])).code).toBe(1);
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
  });
});

describe('heartbeat, note-edit, unregister, reap', () => {
  it('heartbeat refreshes, registers unknown ids, and revives a crashed agent', async () => {
    await run(['register', 'a']);
    clock.now += 1_000;
    const hb = await json(['heartbeat', '1']);
    expect(hb.data).toMatchObject({ id: 1, name: 'a', state: 'active' });
    expect(readState(ws).agents[0]?.last_seen_ms).toBe(T0 + 1_000);
    expect((await run(['heartbeat'], { HARN_AGENT_ID: '5' })).stdout).toBe('agent 5 (agent-5) is active\n');
    // The workspace's timeout reaps them (a call's --agent-timeout only sets the timeout of agents it creates).
    await run(['config', 'set', 'agent-timeout', '1ms']);
    clock.now += 2;
    expect(await run(['reap'])).toEqual({
      code: 0,
      stdout: 'reaped agent 1 (a): marked crashed, locks released\nreaped agent 5 (agent-5): marked crashed, locks released\n',
      stderr: '',
    });
    expect(readState(ws).agents[0]?.state).toBe('crashed');
    expect((await json(['heartbeat', '1'])).data.state).toBe('active');
    expect(await run(['heartbeat'])).toEqual({ code: 2, stdout: '', stderr: 'harn-agents: no agent given: pass an agent id or set HARN_AGENT_ID\n' });
  });

  it('note-edit counts edits; an unknown agent exits 1 and counts nothing', async () => {
    await run(['register', 'a']);
    await run(['note-edit', '1']);
    expect((await json(['note-edit', '1'])).data).toEqual({ counted: true, id: 1, name: 'a', edit_count: 2 });
    expect(await run(['note-edit', '7'])).toEqual({ code: 1, stdout: '', stderr: 'agent 7 is not registered; no edit counted\n' });
    expect(readState(ws).agents.map((a) => a.id)).toEqual([1]);
  });

  it('unregister removes the agent and frees its locks; an unknown id is not an error', async () => {
    await run(['register', 'a']);
    await run(['lock', 'f', '--agent', '1']);
    // The agent itself: its locks go with it (another caller needs --force --reason: audited-drops.test.ts).
    expect((await json(['unregister', '1', '--agent', '1'])).data).toEqual({ id: 1, name: 'a', removed: true });
    expect((await run(['holder', 'f'])).code).toBe(1);
    expect(await run(['unregister', '1'])).toEqual({ code: 0, stdout: 'agent 1 is not registered; nothing to do\n', stderr: '' });
  });

  it('every command reaps silent agents first, releasing their locks', async () => {
    await run(['register', 'a']);
    await run(['lock', 'f', '--agent', '1', '--ttl', '1h']);
    clock.now += 1_000;
    // A call's own timeout never reaps another's agent; the workspace's 1 ms timeout does, by the next call.
    expect((await run(['holder', 'f'], { HARN_AGENT_TIMEOUT: '1ms' })).code).toBe(0);
    await run(['config', 'set', 'agent-timeout', '1ms']);
    expect((await run(['holder', 'f'])).code).toBe(1);
    expect(readState(ws).agents[0]).toMatchObject({ state: 'crashed', locked_paths: {} });
    expect((await json(['reap'])).data).toEqual({ reaped: [] });
  });

  it('reap --json names the agents it reaped', async () => {
    await run(['register', 'a']);
    await run(['config', 'set', 'agent-timeout', '1ms']);
    clock.now += 2;
    expect((await json(['reap'])).data).toEqual({ reaped: [{ id: 1, name: 'a' }] });
  });
});

describe('status', () => {
  it('prints a table without colour when not a TTY, and escapes hostile names', async () => {
    await run(['register', 'editor']);
    await run(['register', 'evil\u001b[2J\rname\u202e']);
    await run(['lock', 'src/a.ts', '--agent', '1']);
    clock.now += 5_000;
    const out = await run(['status', '--table']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      [
        '┌────┬─────────────────────────┬────────┬───────────┬───────┬─────────────────────┐',
        '│ id │ name                    │ state  │ last seen │ edits │ locks               │',
        '├────┼─────────────────────────┼────────┼───────────┼───────┼─────────────────────┤',
        '│ 1  │ editor                  │ active │ 5s ago    │ 0     │ src/a.ts (25s left) │',
        '├────┼─────────────────────────┼────────┼───────────┼───────┼─────────────────────┤',
        '│ 2  │ evil\\x1b[2J\\rname\\u202e │ active │ 5s ago    │ 0     │ -                   │',
        '└────┴─────────────────────────┴────────┴───────────┴───────┴─────────────────────┘',
        '',
      ].join('\n'),
    );
    expect(out.stdout).toContain('evil\\x1b[2J\\rname\\u202e');
    expect(out.stdout).not.toContain('\u001b');
    expect(out.stdout).not.toContain('\r');
  });

  it('--json has the documented shape and lists live locks only', async () => {
    await run(['register', 'editor']);
    await run(['lock', 'a', '--agent', '1', '--ttl', '1h']);
    await run(['lock', 'b', '--agent', '1', '--ttl', '1ms']);
    clock.now += 1;
    const status = await json(['status']);
    expect(status.code).toBe(0);
    expect(status.data.now_ms).toBe(T0 + 1);
    expect(status.data.workspace).toBe(ws);
    expect(status.data.agents).toEqual([
      {
        id: 1,
        name: 'editor',
        state: 'active',
        last_seen_ms: T0,
        edit_count: 0,
        timeout_ms: 45_000,
        own_timeout: false,
        worktree: null,
        branch: null,
        session: null,
        locks: [{ path: 'a', kind: 'path', mode: 'exclusive', slots: null, agent: { id: 1, name: 'editor' }, expires_ms: T0 + 3_600_000, reason: null }],
      },
    ]);
    const settings = status.data.settings as Array<{ key: string; value_ms: number; source: string }>;
    expect(settings.map((s) => [s.key, s.value_ms, s.source])).toEqual([
      ['agent-timeout', 45_000, 'default'],
      ['lock-ttl', 30_000, 'default'],
      ['retention', 604_800_000, 'default'],
    ]);
  });

  it('on an empty workspace says so and creates nothing, not even .harn/', async () => {
    expect(await run(['status', '--table'])).toEqual({ code: 0, stdout: `no agents to show in ${ws}\n`, stderr: '' });
    // Into a pipe stdout holds only rows (none here); the note goes to stderr.
    expect(await run(['status'])).toEqual({ code: 0, stdout: '', stderr: `no agents to show in ${ws}\n` });
    expect((await run(['holder', 'x'])).code).toBe(1);
    expect((await run(['reap'])).code).toBe(0);
    expect((await run(['release', 'x', '--agent', '1'])).code).toBe(0);
    expect((await json(['status'])).data.agents).toEqual([]);
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });
});

describe('the tool', () => {
  // Every command the declarations give the CLI (src/commands/index.ts).
  it.each(CLI_COMMANDS.map((c) => c.name))('%s --help shows an example and exits 0', async (command) => {
    const help = await run([command, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}\$ .*harn-agents /);
  });

  it('--help of the tool lists commands, exit codes and an example', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 done, 1/);
    expect(help.stdout).toMatch(/register/);
    expect(help.stdout).toMatch(/\$ ID=\$\(harn-agents register ci\)/);
  });

  it.each([
    [['bogus'], "harn-agents: unknown command 'bogus'\n"],
    [['lock', 'f', '--agent', '1', '--bogus'], "harn-agents: unknown option '--bogus'\n"],
    [[], "harn-agents: no command given (try 'harn-agents --help')\n"],
    [['lock', 'f', '--agent', '1', '--ttl', '10parsecs'], "harn-agents: --ttl: '10parsecs' is not a duration (use e.g. 1500ms, 30s, 5m, 1h, or a number of ms)\n"],
  ])('%j is a one-line usage error', async (args, message) => {
    expect(await run(args)).toEqual({ code: 2, stdout: '', stderr: message });
  });

  it('global options work after the command name too', async () => {
    expect((await run(['register', 'a', '--json'])).stdout).toBe('{\n  "id": 1,\n  "name": "a"\n}\n');
  });
});

describe('exit 3: a state file the tool cannot understand is left byte for byte', () => {
  it.each([
    ['not JSON', '{"next_id": 1, "agents": ['],
    ['an unknown state', '{"next_id":2,"agents":[{"id":1,"name":"a","state":"zombie","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}'],
    ['an id beyond 2^53', '{"next_id":2,"agents":[{"id":9007199254740993,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}'],
    ['wrong types', '{"next_id":"2","agents":[]}'],
  ])('%s', async (_what, text) => {
    writeState(ws, text);
    for (const args of [['register', 'x'], ['status'], ['holder', 'f'], ['lock', 'f', '--agent', '1']]) {
      const result = await run(args);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^harn-agents: state file ${statePath(ws).replace(/[.]/g, '\\.')} is invalid: .+; it was left untouched \\(run 'harn-agents doctor'\\)\\n$`));
    }
    expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
  });

  it('a .harn that is a file', async () => {
    fs.writeFileSync(path.join(ws, '.harn'), 'not a dir');
    const result = await run(['register', 'a']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/\.harn is a regular file, not a directory/);
    expect(fs.readFileSync(path.join(ws, '.harn'), 'utf8')).toBe('not a dir');
  });

  it('a state file that is a directory', async () => {
    fs.mkdirSync(statePath(ws), { recursive: true });
    const result = await run(['register', 'a']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/is a directory/);
  });
});
