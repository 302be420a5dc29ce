import { describe, expect, it } from 'vitest';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// TTL and agent-timeout boundaries through the CLI's own wiring and a real state file, on an injected clock:
// exact to the millisecond, and no sleep a loaded machine could stretch.

describe('boundaries on an injected clock (in-process CLI, file store)', () => {
  it('a lock is held until its expiry and free at expiry == now; another agent then gets it', async () => {
    const clock = testClock();
    const { run, json } = inProcessCli({ clock });
    const locked = await json(['lock', 'short.ts', '--agent', '1', '--ttl', '300ms']);
    expect(locked.code).toBe(0);
    const start = clock.now;
    clock.now = start + 299;
    const held = await run(['holder', 'short.ts']);
    expect(held).toEqual({ code: 0, stdout: 'short.ts: agent 1 (agent-1), expires in 1ms\n', stderr: '' });
    clock.now = start + 300;
    expect(await run(['holder', 'short.ts'])).toEqual({ code: 1, stdout: 'short.ts: free\n', stderr: '' });
    expect((await run(['lock', 'short.ts', '--agent', '2'])).code).toBe(0);
  });

  it('an agent silent for exactly the timeout is active; one millisecond more and it is reaped, its locks released', async () => {
    const clock = testClock();
    const { run, json } = inProcessCli({ clock });
    // The timeout is the agent's own, recorded by the call that creates it (a later call's reaps nobody else).
    await run(['lock', 'long.ts', '--agent', '3', '--ttl', '1h'], { HARN_AGENT_TIMEOUT: '500ms' });
    const start = clock.now;
    clock.now = start + 500;
    expect((await json(['reap'])).data).toEqual({ reaped: [] });
    clock.now = start + 501;
    expect(await run(['reap'])).toEqual({ code: 0, stdout: 'reaped agent 3 (agent-3): marked crashed, locks released\n', stderr: '' });
    expect((await run(['holder', 'long.ts'])).code).toBe(1);
    const log = await json(['log']);
    expect(log.data.events).toEqual([{ type: 'reap', ts: start + 501, agent: { id: 3, name: 'agent-3' }, last_seen_ms: start, released: ['long.ts'] }]);
  });

  it("text output counts from the answer's now_ms, not this process's clock, when the clock went back", async () => {
    const clock = testClock();
    const { run } = inProcessCli({ clock });
    expect((await run(['lock', 'a.ts', '--agent', '1', '--ttl', '1m'])).code).toBe(0);
    // This machine's clock goes back 10 s: the registry keeps its own time, and every span is counted from it.
    clock.now -= 10_000;
    const held = await run(['holder', 'a.ts']);
    expect(held.code).toBe(0);
    expect(held.stdout).toBe('a.ts: agent 1 (agent-1), expires in 1m\n');
    const refused = await run(['lock', 'a.ts', '--agent', '2']);
    expect(refused.stderr).toMatch(/^refused: a\.ts is held by agent 1 \(agent-1\), expires in 1m\n/);
    const checked = await run(['check', 'a.ts']);
    expect(checked.stderr).toMatch(/^a\.ts: held by agent 1 \(agent-1\), expires in 1m\n/);
  });
});
