import { describe, expect, it } from 'vitest';
import { registryTime } from '../../src/core/clock.js';
import { AgentRegistry, DEFAULT_CONFIG } from '../../src/core/registry.js';

describe('registryTime', () => {
  it('is the wall clock when it is ahead of everything recorded', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    expect(registryTime(1_000, reg)).toEqual({ nowMs: 1_000, wallMs: 1_000, clockBehindMs: 0 });
    reg.register('a', 900);
    expect(registryTime(1_000, reg)).toEqual({ nowMs: 1_000, wallMs: 1_000, clockBehindMs: 0 });
  });

  it('never runs backwards: a wall clock behind the newest stamp uses the stamp and says by how much', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const a = reg.register('a', 3_600_000);
    reg.tryLock(a, 'f', 10_000, 3_600_000);
    const time = registryTime(5_000, reg);
    expect(time).toEqual({ nowMs: 3_600_000, wallMs: 5_000, clockBehindMs: 3_595_000 });
    // A lock granted while the clock is back is measured from the registry's time, not the wall's.
    const b = reg.register('b', time.nowMs);
    const result = reg.lockAll(b, ['g'], 30_000, time.nowMs);
    expect(result.granted && result.expiresMs).toBe(3_630_000);
    // And the lock held before the clock went back does not expire early.
    expect(reg.holderOf('f', time.nowMs)?.agent.id).toBe(a);
  });
});

describe('keepAliveIntervalMs', () => {
  it('is a third of the shorter of TTL and agent timeout, between 50 ms and a minute', async () => {
    const { keepAliveIntervalMs } = await import('../../src/core/keepalive.js');
    expect(keepAliveIntervalMs(30_000, 45_000)).toBe(10_000);
    expect(keepAliveIntervalMs(90_000, 45_000)).toBe(15_000);
    expect(keepAliveIntervalMs(100, 45_000)).toBe(50);
    // A 10-year TTL or timeout must not overflow the timer into a 1 ms busy loop.
    expect(keepAliveIntervalMs(315_576_000_000, 315_576_000_000)).toBe(60_000);
  });
});
