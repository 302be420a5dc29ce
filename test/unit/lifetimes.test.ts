import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/api/index.js';
import { renderCheck } from '../../src/commands/check.js';
import { renderHolder } from '../../src/commands/holder.js';
import { renderLock } from '../../src/commands/lock.js';
import { cli, readState, statePath, tempDir } from '../helpers/cli.js';

// Issue 13: each agent lives as long as its own timeout, whatever any other call passes; the workspace's
// settings are stored with its registry; lock output says what really bounds a lock.

/** Block until at least `ms` of wall-clock time has passed since `since` (a lower bound: load only adds). */
async function passed(since: number, ms: number): Promise<void> {
  while (Date.now() - since <= ms) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("an agent's own timeout", () => {
  it("a person's 2-hour lock outlives the workspace's short default timeout; an agent on the default is reaped", async () => {
    const ws = tempDir();
    const run = (args: string[], env?: Record<string, string>) => cli(args, { cwd: ws, env: { TZ: 'UTC', ...env } });
    expect(run(['config', 'set', 'agent-timeout', '1s']).code).toBe(0);
    const ana = run(['register', 'ana', '--timeout', '1h']).stdout.trim();
    const bob = run(['register', 'bob']).stdout.trim();
    const locked = run(['lock', 'src/api/', '--agent', ana, '--ttl', '2h', '--reason', 'renaming the API']);
    expect(locked.code).toBe(0);
    // The 2 h TTL outlasts ana's 1 h timeout: the output says what bounds it, with one hint.
    expect(locked.stdout).toMatch(new RegExp(`^locked src/api/ for agent ${ana} \\(ana\\) until \\d\\d:\\d\\d \\(expires in 2h\\), while agent ${ana} heartbeats at least every 1h\\n$`));
    expect(locked.stderr.trim().split('\n')).toHaveLength(1);
    expect(locked.stderr).toMatch(/hint: .*heartbeat .*with-lock.*register NAME --timeout 2h/);
    expect(run(['lock', 'b.ts', '--agent', bob, '--ttl', '2h']).stdout).toMatch(/while agent \d+ heartbeats at least every 1s/);
    // Measured from after bob's last activity, so a slow machine only adds to it.
    await passed(Date.now(), 1_100);
    // Past the workspace's 1 s: bob (on the default) is reaped and his lock freed; ana still holds hers.
    expect(run(['holder', 'b.ts']).code).toBe(1);
    const held = run(['holder', 'src/api/x.ts']);
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/agent \d+ \(ana\) through src\/api\/ \(reason: renaming the API\), expires in 1h59m/);
    const agents = readState(ws).agents;
    expect(agents.map((a) => [a.name, a.state])).toEqual([['ana', 'active'], ['bob', 'crashed']]);
  });

  it("a call's shorter --agent-timeout or HARN_AGENT_TIMEOUT reaps nobody else", () => {
    const ws = tempDir();
    const run = (args: string[], env?: Record<string, string>) => cli(args, { cwd: ws, env });
    const id = run(['register', 'ana']).stdout.trim();
    expect(run(['lock', 'a.ts', '--agent', id, '--ttl', '10m']).code).toBe(0);
    const before = fs.readFileSync(statePath(ws));
    expect(JSON.parse(run(['--agent-timeout', '1ms', '--json', 'reap']).stdout)).toEqual({ reaped: [] });
    expect(run(['--agent-timeout', '1ms', 'status', '--table']).stdout).toMatch(/ana +│ active/);
    expect(run(['holder', 'a.ts'], { HARN_AGENT_TIMEOUT: '1ms' }).code).toBe(0);
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
    // It is the timeout of the agents that call creates, and only theirs.
    const short = run(['--agent-timeout', '90s', 'register', 'ci']).stdout.trim();
    const status = JSON.parse(run(['--json', 'status']).stdout);
    expect(status.agents.map((a: { id: number; timeout_ms: number; own_timeout: boolean }) => [a.id, a.timeout_ms, a.own_timeout])).toEqual([
      [Number(id), 45_000, false],
      [Number(short), 90_000, true],
    ]);
  });

  it('settings set by one call are seen by the next; unset returns to the default; bad input is exit 2', () => {
    const ws = tempDir();
    const run = (args: string[]) => cli(args, { cwd: ws });
    expect(run(['config', 'set', 'lock-ttl', '10m']).stdout).toMatch(/^lock-ttl is now 10m in /);
    expect(run(['config', 'set', 'agent-timeout', '2h']).code).toBe(0);
    const shown = run(['config']).stdout;
    expect(shown).toMatch(/agent-timeout +2h +set for this workspace/);
    expect(shown).toMatch(/lock-ttl +10m +set for this workspace/);
    const lock = JSON.parse(run(['--json', 'lock', 'a.ts', '--agent', '1']).stdout);
    expect(lock.paths[0].expires_ms - lock.now_ms).toBe(600_000);
    expect(lock.agent_timeout_ms).toBe(7_200_000);
    // A call's --lock-ttl overrides the workspace's for that call only.
    const short = JSON.parse(run(['--json', '--lock-ttl', '1m', 'lock', 'b.ts', '--agent', '1']).stdout);
    expect(short.paths[0].expires_ms - short.now_ms).toBe(60_000);
    const status = JSON.parse(run(['--json', 'status']).stdout);
    expect(status.settings.map((s: { key: string; value_ms: number; source: string }) => [s.key, s.value_ms, s.source])).toEqual([
      ['agent-timeout', 7_200_000, 'workspace'],
      ['lock-ttl', 600_000, 'workspace'],
      ['retention', 604_800_000, 'default'],
    ]);
    expect(JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).harn.settings).toEqual({ agent_timeout_ms: 7_200_000, lock_ttl_ms: 600_000 });
    expect(run(['config', 'unset', 'lock-ttl']).stdout).toMatch(/^lock-ttl is now 30s \(the default\)/);
    expect(run(['config', 'unset', 'lock-ttl']).stdout).toMatch(/was already 30s; nothing changed/);
    const before = fs.readFileSync(statePath(ws));
    for (const bad of [['config', 'set', 'nope', '1s'], ['config', 'set', 'lock-ttl', 'soon'], ['config', 'set', 'lock-ttl', '0'], ['config', 'set', 'lock-ttl'], ['config', 'frob']]) {
      const result = run(bad);
      expect(result.code, bad.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
  });

  it('an invalid stored setting or agent timeout is exit 3 and the file is left byte for byte', () => {
    const ws = tempDir();
    for (const harn of ['{"settings":{"agent_timeout_ms":-5}}', '{"settings":[]}', '{"agents":{"1":{"timeout_ms":"8h"}}}', '{"agents":{"1":{"process":{"pid":0,"start":1}}}}']) {
      const text = `{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}],"harn":${harn}}\n`;
      fs.mkdirSync(path.join(ws, '.harn'), { recursive: true });
      fs.writeFileSync(statePath(ws), text);
      const result = cli(['config', 'set', 'lock-ttl', '1m'], { cwd: ws });
      expect(result.code, harn).toBe(3);
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
});

describe('one clock per output', () => {
  // A result from a registry whose time is far from this process's clock (another machine's database).
  const now = 1_000_000;
  const holder = { id: 3, name: 'ana' };

  it('lock, holder and check count every span from the result\'s now_ms', () => {
    expect(renderLock({ granted: true, agent: 3, paths: [{ path: 'a.ts', holder, expires_ms: now + 300_000 }], now_ms: now, agent_timeout_ms: 600_000 }).stdout).toBe(
      'locked a.ts for agent 3 (ana), expires in 5m\n',
    );
    expect(renderLock({ granted: false, agent: 4, paths: [{ path: 'a.ts', holder, expires_ms: now + 90_000, held_path: 'a.ts', reason: null }], now_ms: now }).stderr).toMatch(
      /held by agent 3 \(ana\), expires in 1m30s/,
    );
    expect(renderHolder({ now_ms: now, result: [{ path: 'a.ts', holder: { ...holder, expires_ms: now + 60_000, held_path: 'a.ts', reason: null } }] }).stdout).toBe(
      'a.ts: agent 3 (ana), expires in 1m\n',
    );
    const check = renderCheck({ guard: 'on', agent: null, recognised: [], checked: 1, conflicts: [{ path: 'a.ts', holder, held_path: 'a.ts', reason: null, expires_ms: now + 2_000 }], now_ms: now });
    expect(check.stderr).toMatch(/a\.ts: held by agent 3 \(ana\), expires in 2s/);
    expect(check.stderr).toMatch(/HARN_AGENT_ID=3 git commit .*HARN_GUARD=warn.*--no-verify/);
  });
});
