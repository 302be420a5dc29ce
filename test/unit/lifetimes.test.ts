import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/api/index.js';
import { renderCheck } from '../../src/commands/check.js';
import { renderHolder } from '../../src/commands/holder.js';
import { renderLock } from '../../src/commands/lock.js';
import { readState, statePath, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// Issue 13: each agent lives as long as its own timeout, whatever any other call passes; the workspace's
// settings are stored with its registry; lock output says what really bounds a lock. In-process, through the
// CLI's own wiring (runCli), on an injected clock: timeouts pass without waiting.

/** A time of day as the text output shows it (local time, as the user's terminal would). */
const hhmm = (ms: number): string => {
  const at = new Date(ms);
  return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
};

describe("an agent's own timeout", () => {
  it("a person's 2-hour lock outlives the workspace's short default timeout; an agent on the default is reaped", async () => {
    const { ws, clock, run } = inProcessCli({ clock: testClock() });
    const T0 = clock.now;
    expect((await run(['config', 'set', 'agent-timeout', '1s'])).code).toBe(0);
    expect(await run(['register', 'ana', '--timeout', '1h'])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect(await run(['register', 'bob'])).toEqual({ code: 0, stdout: '2\n', stderr: '' });
    // The 2 h TTL outlasts ana's 1 h timeout: the output says what bounds it, with one hint.
    expect(await run(['lock', 'src/api/', '--agent', '1', '--ttl', '2h', '--reason', 'renaming the API'])).toEqual({
      code: 0,
      stdout: `locked src/api/ for agent 1 (ana) until ${hhmm(T0 + 7_200_000)} (expires in 2h), while agent 1 heartbeats at least every 1h\n`,
      stderr: `harn-agents: hint: agent 1 is reaped after 1h without a heartbeat, and its locks go with it; to hold them longer, run 'harn-agents heartbeat 1' more often, run the work under 'harn-agents with-lock', or register the agent with a longer timeout ('harn-agents register NAME --timeout 2h')\n`,
    });
    expect(await run(['lock', 'b.ts', '--agent', '2', '--ttl', '2h'])).toEqual({
      code: 0,
      stdout: `locked b.ts for agent 2 (bob) until ${hhmm(T0 + 7_200_000)} (expires in 2h), while agent 2 heartbeats at least every 1s\n`,
      stderr: `harn-agents: hint: agent 2 is reaped after 1s without a heartbeat, and its locks go with it; to hold them longer, run 'harn-agents heartbeat 2' more often, run the work under 'harn-agents with-lock', or register the agent with a longer timeout ('harn-agents register NAME --timeout 2h')\n`,
    });
    // 1 s is not yet past the workspace's timeout; 1 ms more is.
    clock.now += 1_000;
    expect((await run(['holder', 'b.ts'])).code).toBe(0);
    clock.now += 1;
    // Past the workspace's 1 s: bob (on the default) is reaped and his lock freed; ana still holds hers.
    expect(await run(['holder', 'b.ts'])).toEqual({ code: 1, stdout: 'b.ts: free\n', stderr: '' });
    expect(await run(['holder', 'src/api/x.ts'])).toEqual({
      code: 0,
      stdout: 'src/api/x.ts: agent 1 (ana) through src/api/ (reason: renaming the API), expires in 1h59m\n',
      stderr: '',
    });
    const agents = readState(ws).agents;
    expect(agents.map((a) => [a.name, a.state])).toEqual([['ana', 'active'], ['bob', 'crashed']]);
  });

  it("a call's shorter --agent-timeout or HARN_AGENT_TIMEOUT reaps nobody else", async () => {
    const { ws, clock, run, json } = inProcessCli({ clock: testClock() });
    expect(await run(['register', 'ana'])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    expect((await run(['lock', 'a.ts', '--agent', '1', '--ttl', '10m'])).code).toBe(0);
    const before = fs.readFileSync(statePath(ws));
    clock.now += 1_000;
    expect(await json(['--agent-timeout', '1ms', 'reap'])).toMatchObject({ code: 0, data: { reaped: [] }, stderr: '' });
    expect((await run(['--agent-timeout', '1ms', 'status', '--table'])).stdout).toMatch(/ana +│ active/);
    expect((await run(['holder', 'a.ts'], { HARN_AGENT_TIMEOUT: '1ms' })).code).toBe(0);
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    // It is the timeout of the agents that call creates, and only theirs.
    expect((await run(['--agent-timeout', '90s', 'register', 'ci'])).stdout).toBe('2\n');
    const status = (await json(['status'])).data;
    expect(status.agents.map((a: { id: number; timeout_ms: number; own_timeout: boolean }) => [a.id, a.timeout_ms, a.own_timeout])).toEqual([
      [1, 45_000, false],
      [2, 90_000, true],
    ]);
  });

  it('settings set by one call are seen by the next; unset returns to the default; bad input is exit 2', async () => {
    const { ws, run, json } = inProcessCli({ clock: testClock() });
    expect(await run(['config', 'set', 'lock-ttl', '10m'])).toEqual({ code: 0, stdout: `lock-ttl is now 10m in ${ws}\n`, stderr: '' });
    expect((await run(['config', 'set', 'agent-timeout', '2h'])).code).toBe(0);
    const shown = (await run(['config'])).stdout;
    expect(shown).toMatch(/agent-timeout +2h +set for this workspace/);
    expect(shown).toMatch(/lock-ttl +10m +set for this workspace/);
    const lock = (await json(['lock', 'a.ts', '--agent', '1'])).data;
    expect(lock.locks[0].expires_ms - lock.now_ms).toBe(600_000);
    expect(lock.agent_timeout_ms).toBe(7_200_000);
    // A call's --lock-ttl overrides the workspace's for that call only.
    const short = (await json(['--lock-ttl', '1m', 'lock', 'b.ts', '--agent', '1'])).data;
    expect(short.locks[0].expires_ms - short.now_ms).toBe(60_000);
    const status = (await json(['status'])).data;
    expect(status.settings.map((s: { key: string; value_ms: number; source: string }) => [s.key, s.value_ms, s.source])).toEqual([
      ['agent-timeout', 7_200_000, 'workspace'],
      ['lock-ttl', 600_000, 'workspace'],
      ['retention', 604_800_000, 'default'],
    ]);
    expect(JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).harn.settings).toEqual({ agent_timeout_ms: 7_200_000, lock_ttl_ms: 600_000 });
    expect(await run(['config', 'unset', 'lock-ttl'])).toEqual({ code: 0, stdout: `lock-ttl is now 30s (the default) in ${ws}\n`, stderr: '' });
    expect(await run(['config', 'unset', 'lock-ttl'])).toEqual({ code: 0, stdout: 'lock-ttl was already 30s; nothing changed\n', stderr: '' });
    const before = fs.readFileSync(statePath(ws));
    for (const [bad, message] of [
      [['config', 'set', 'nope', '1s'], "harn-agents: unknown setting 'nope' (settings: agent-timeout, lock-ttl, retention)\n"],
      [['config', 'set', 'lock-ttl', 'soon'], "harn-agents: config set lock-ttl: 'soon' is not a duration (use e.g. 1500ms, 30s, 5m, 1h, or a number of ms)\n"],
      [['config', 'set', 'lock-ttl', '0'], "harn-agents: config set lock-ttl: the duration must be greater than zero (got '0')\n"],
      [['config', 'set', 'lock-ttl'], 'harn-agents: config set lock-ttl: give a value, e.g. 10m\n'],
      [['config', 'frob'], "harn-agents: config: unknown action 'frob' (use set or unset, or nothing to show the settings)\n"],
    ] as const) {
      expect({ bad, result: await run(bad) }).toEqual({ bad, result: { code: 2, stdout: '', stderr: message } });
    }
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
  });

  it('an invalid stored setting or agent timeout is exit 3 and the file is left byte for byte', async () => {
    const { ws, run } = inProcessCli({ clock: testClock() });
    for (const harn of ['{"settings":{"agent_timeout_ms":-5}}', '{"settings":[]}', '{"agents":{"1":{"timeout_ms":"8h"}}}', '{"agents":{"1":{"process":{"pid":0,"start":1}}}}']) {
      const text = `{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}],"harn":${harn}}\n`;
      fs.mkdirSync(path.join(ws, '.harn'), { recursive: true });
      fs.writeFileSync(statePath(ws), text);
      const result = await run(['config', 'set', 'lock-ttl', '1m']);
      expect({ harn, code: result.code, stdout: result.stdout }).toEqual({ harn, code: 3, stdout: '' });
      expect(result.stderr.startsWith(`harn-agents: state file ${statePath(ws)} is invalid: harn.`), result.stderr).toBe(true);
      expect(result.stderr.endsWith("; it was left untouched (run 'harn-agents doctor')\n"), result.stderr).toBe(true);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(fs.readFileSync(statePath(ws), 'utf8')).toBe(text);
    }
  });
});

describe('the same, in-process with an injected clock', () => {
  it('register --timeout 8h and lock --ttl 2h hold for two hours with no heartbeat; then the path is free', async () => {
    const ws = tempDir();
    let now = 1_800_000_000_000;
    const reg = openRegistry({ cwd: ws, clock: () => now });
    const { id: ana } = await reg.register('ana', { timeout: '8h' });
    const { id: bob } = await reg.register('bob');
    expect((await reg.lock(['src/api/'], { agent: ana, ttl: '2h' })).granted).toBe(true);
    now += 2 * 3_600_000 - 1;
    // Hours past the default 45 s; a caller passing a 1 ms timeout reaps nobody either.
    const hasty = openRegistry({ cwd: ws, clock: () => now, agentTimeout: 1 });
    expect((await hasty.reap()).reaped).toEqual([{ id: bob, name: 'bob' }]);
    expect((await reg.lock(['src/api/a.ts'], { agent: bob })).granted).toBe(false);
    now += 1;
    expect((await reg.lock(['src/api/a.ts'], { agent: bob })).granted).toBe(true);
    expect((await reg.status()).agents.find((a) => a.id === ana)).toMatchObject({ state: 'active', timeout_ms: 8 * 3_600_000, locks: [] });
  });

  it('the workspace setting applies to agents without their own timeout, on the next call', async () => {
    const ws = tempDir();
    let now = 1_800_000_000_000;
    const reg = openRegistry({ cwd: ws, clock: () => now });
    const { id } = await reg.register('default-agent');
    await reg.setConfig('agent-timeout', '10m');
    now += 45_001;
    expect((await reg.reap()).reaped).toEqual([]);
    now += 10 * 60_000;
    expect((await reg.reap()).reaped).toEqual([{ id, name: 'default-agent' }]);
    expect((await reg.config()).settings.find((s) => s.key === 'agent-timeout')).toMatchObject({ value_ms: 600_000, source: 'workspace' });
    expect((await reg.setConfig('agent-timeout', null)).settings.find((s) => s.key === 'agent-timeout')).toMatchObject({ source: 'default' });
  });

  it('a key that is not a string is named by its type, not by what its toString says', async () => {
    const reg = openRegistry({ cwd: tempDir() });
    const key = { toString: () => 'lock-ttl' } as unknown as string;
    await expect(reg.setConfig(key, '5m')).rejects.toThrow('unknown setting a value of type object (settings: agent-timeout, lock-ttl, retention)');
  });
});

describe('one clock per output', () => {
  // A result from a registry whose time is far from this process's clock (another machine's database).
  const now = 1_000_000;
  const holder = { id: 3, name: 'ana' };
  const hold = (expires: number) => ({ path: 'a.ts', kind: 'path' as const, mode: 'exclusive' as const, slots: null, agent: holder, expires_ms: expires, reason: null });

  it('lock, holder and check count every span from the result\'s now_ms', () => {
    expect(renderLock({ granted: true, agent: 3, locks: [hold(now + 300_000)], conflicts: [], retry_after_ms: null, now_ms: now, agent_timeout_ms: 600_000 }).stdout).toBe(
      'locked a.ts for agent 3 (ana), expires in 5m\n',
    );
    expect(renderLock({ granted: false, agent: 4, locks: [], conflicts: [{ path: 'a.ts', holders: [hold(now + 90_000)], retry_after_ms: 90_000 }], retry_after_ms: 90_000, now_ms: now }).stderr).toMatch(
      /held by agent 3 \(ana\), expires in 1m30s/,
    );
    expect(renderHolder({ now_ms: now, result: [{ path: 'a.ts', holders: [hold(now + 60_000)], retry_after_ms: 60_000 }] }).stdout).toBe(
      'a.ts: agent 3 (ana), expires in 1m\n',
    );
    const check = renderCheck({ guard: 'on', agent: null, recognised: [], shared_process: [], checked: 1, conflicts: [{ path: 'a.ts', holders: [hold(now + 2_000)], retry_after_ms: 2_000 }], now_ms: now });
    expect(check.stderr).toMatch(/a\.ts: held by agent 3 \(ana\), expires in 2s/);
    // What to do instead (commit only your own files), never how to get around the guard: a model reads this.
    expect(check.stderr).toMatch(/commit only your own files: git restore --staged a\.ts, then commit again/);
    expect(check.stderr).not.toMatch(/HARN_GUARD=|--no-verify|HARN_AGENT_ID=|--help/);
  });
});
