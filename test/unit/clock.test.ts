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

describe('clockFacts: which clock moved', async () => {
  const { clockFacts } = await import('../../src/core/clock.js');
  const stamped = (newest: number) => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    reg.register('a', newest);
    return reg;
  };

  it('a registry stamped after the file was written was pushed ahead by a writer whose clock was ahead', () => {
    // Written at 1_000 by the kernel's clock, stamped 1_000 + 1h by the writer's; read at 2_000.
    const facts = clockFacts(registryTime(2_000, stamped(1_000 + 3_600_000)), 1_000);
    expect(facts).toEqual({
      behind_ms: 3_599_000,
      file_written_ms: 1_000,
      registry_ahead_of_file_ms: 3_600_000,
      clock_behind_file_ms: 0,
      cause: 'registry_ahead',
    });
  });

  it('a clock behind the file\'s last write went back', () => {
    const facts = clockFacts(registryTime(5_000 - 3_600_000, stamped(5_000)), 5_000);
    expect(facts.cause).toBe('clock_went_back');
    expect(facts.clock_behind_file_ms).toBe(3_600_000);
    expect(facts.registry_ahead_of_file_ms).toBe(0);
  });

  it('nothing to say when the clock is not behind; unknown without a file time (PostgreSQL)', () => {
    expect(clockFacts(registryTime(9_000, stamped(5_000)), 5_000).cause).toBe('none');
    expect(clockFacts(registryTime(1_000, stamped(5_000))).cause).toBe('unknown');
    expect(clockFacts(registryTime(1_000, stamped(5_000))).file_written_ms).toBeNull();
  });
});

describe('rebaseClock (doctor --fix-clock)', async () => {
  const { rebaseClock } = await import('../../src/commands/doctor/clock-rebase.js');
  const { applyTransaction } = await import('../../src/store/transaction.js');
  type TransactionMode = import('../../src/store/transaction.js').TransactionMode;
  const { encodeSnapshot, decodeSnapshot } = await import('../../src/store/codec.js');
  type Ctx = Parameters<typeof rebaseClock>[0];

  /** An in-memory store over one snapshot text, on a wall clock the test sets. */
  function memoryContext(text: string, wall: () => number): { ctx: Ctx; text: () => string } {
    let current = text;
    const store = {
      location: 'memory',
      async transact<R>(_mode: TransactionMode, fn: Parameters<Ctx['store']['transact']>[1]): Promise<R> {
        const applied = applyTransaction(current, DEFAULT_CONFIG, wall(), 'memory', fn);
        if (applied.registry.changed) current = encodeSnapshot(applied.registry.snapshot());
        return applied.result as R;
      },
      async readEvents() {
        return { events: [], skipped: 0 };
      },
      async close() {},
    };
    const ctx = { workspace: { root: '/', pathRoot: '/', cwd: '/', stateDir: '/.harn', statePath: '/.harn/agents.json', trusted: false, git: () => null }, store, config: DEFAULT_CONFIG, clock: wall, sleep: async () => undefined };
    return { ctx, text: () => current };
  }

  it('moves every time back by the offset: the newest becomes now, each live lock keeps its time left, holders unchanged', async () => {
    const wall = 1_800_000_000_000;
    const ahead = wall + 3_600_000;
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const a = reg.register('a', ahead - 20_000);
    reg.lockAll(a, ['f'], 600_000, ahead - 20_000); // 580 s left on the registry's timeline
    const b = reg.register('b', ahead);
    reg.lockAll(b, ['g'], 5_000, ahead); // 5 s left
    const { ctx, text } = memoryContext(encodeSnapshot(reg.snapshot()), () => wall);

    const result = await rebaseClock(ctx);
    expect(result).toEqual({ rebased: true, offset_ms: 3_600_000, agents: 2, locks: 2, now_ms: wall });
    const after = AgentRegistry.fromSnapshot(DEFAULT_CONFIG, decodeSnapshot(text()));
    expect(after.newestSeenMs()).toBe(wall);
    expect(after.holderOf('f', wall)).toMatchObject({ agent: { id: a }, expiresMs: wall + 580_000 });
    expect(after.holderOf('g', wall)).toMatchObject({ agent: { id: b }, expiresMs: wall + 5_000 });
    // The 5 s lock is free 5 s later on this clock (it was held for another hour before the rebase).
    expect(after.holderOf('g', wall + 5_000)).toBeUndefined();
    expect(registryTime(wall, after).clockBehindMs).toBe(0);

    // Idempotent: a registry not ahead of the clock is left as it is.
    const again = await rebaseClock(ctx);
    expect(again.rebased).toBe(false);
  });
});
