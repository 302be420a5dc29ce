import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/api/index.js';
import { AgentRegistry, DEFAULT_CONFIG } from '../../src/core/registry.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

const DAY = 24 * 3_600_000;

describe('AgentRegistry.prune', () => {
  it('removes crashed and gone agents holding nothing and last seen before the age; keeps next_id', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const old = reg.register('old-crashed', 0);
    const recent = reg.register('recent-crashed', 6 * DAY);
    const active = reg.register('active', 0);
    reg.reap(60_000); // old and active crash (silent > 45 s) ... then active comes back
    reg.heartbeat(active, 7 * DAY);
    reg.reap(6 * DAY + 60_000); // recent crashes too
    expect(reg.prune(7 * DAY + 1, 7 * DAY).map((a) => a.id)).toEqual([old]);
    expect(reg.get(recent)?.state).toBe('crashed');
    expect(reg.get(active)?.state).toBe('active');
    expect(reg.nextId).toBe(4);
    // At exactly the age an agent is kept: strictly older goes.
    expect(reg.prune(6 * DAY + 7 * DAY, 7 * DAY)).toEqual([]);
    expect(reg.prune(6 * DAY + 7 * DAY + 1, 7 * DAY).map((a) => a.id)).toEqual([recent]);
  });

  it('keeps a gone agent that still holds a live lock', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG, {
      nextId: 3,
      agents: [
        { id: 1, name: 'gone-holding', state: 'gone', lastSeenMs: 0, editCount: 0, lockedPaths: new Map([['a.ts', 100 * DAY]]), lockReasons: new Map(), extra: [] },
        { id: 2, name: 'gone-expired', state: 'gone', lastSeenMs: 0, editCount: 0, lockedPaths: new Map([['b.ts', 1]]), lockReasons: new Map(), extra: [] },
      ],
      extra: [],
    });
    expect(reg.prune(30 * DAY, 7 * DAY).map((a) => a.id)).toEqual([2]);
    expect(reg.nextId).toBe(3);
  });
});

describe('prune through the CLI and the library (in-process, injected clock)', () => {
  it('prune --older-than: removes what is due, prints each, keeps ids unique, writes nothing when nothing is due', async () => {
    const clock = testClock();
    const { run, json, ws } = inProcessCli({ clock });
    expect((await run(['register', 'a'])).stdout).toBe('1\n');
    expect((await run(['register', 'b'])).stdout).toBe('2\n');
    clock.now += 60_000; // both silent past the 45 s timeout
    expect((await run(['reap'])).stdout).toMatch(/reaped agent 1 \(a\)/);
    expect(await run(['prune'])).toEqual({ code: 0, stdout: 'nothing to prune\n', stderr: '' });
    const before = fs.statSync(path.join(ws, '.harn/agents.json')).mtimeMs;
    expect((await run(['prune'])).code).toBe(0);
    expect(fs.statSync(path.join(ws, '.harn/agents.json')).mtimeMs).toBe(before);
    expect(await run(['prune', '--older-than', '30s'])).toEqual({ code: 0, stdout: 'pruned agent 1 (a)\npruned agent 2 (b)\n', stderr: '' });
    expect((await json(['status', '--all'])).data.agents).toEqual([]);
    expect((await run(['register', 'c'])).stdout).toBe('3\n');
    expect((await run(['prune', '--older-than', 'soon'])).code).toBe(2);
  });

  it('the library: prune({ olderThan }) returns the --json shape', async () => {
    const clock = testClock();
    const { ws } = inProcessCli({ clock });
    const registry = openRegistry({ cwd: ws, clock });
    const { id } = await registry.register('x');
    await registry.unregister(id);
    await registry.register('y');
    // Within the workspace's 7-day retention, so the reap's own write keeps y's record for prune to remove.
    clock.now += 2 * DAY;
    await registry.reap();
    const result = await registry.prune({ olderThan: '1d' });
    expect(result).toEqual({ removed: [{ id: 2, name: 'y' }], older_than_ms: DAY, next_id: 3, now_ms: clock.now });
    await expect(registry.prune({ olderThan: -1 } as never)).rejects.toMatchObject({ exitCode: 2 });
    await registry.close();
  });
});
