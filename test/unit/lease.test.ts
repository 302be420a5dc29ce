import { afterAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/commands/context.js';
import { openContext } from '../../src/commands/create-context.js';
import { Lease, type LeaseTimers, type LostLock } from '../../src/commands/lease.js';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';
import { removeTempDirs, tempDir } from '../helpers/cli.js';
import { aroundTransactions } from '../helpers/in-process.js';

// The lease over a real state file, on two injected clocks: the registry's (the store reads it) and the
// lease's own monotonic clock with its timers. Every moment is placed by hand: nothing waits.

afterAll(removeTempDirs);

/** Timers that fire only when the test moves the clock. */
class ManualTimers implements LeaseTimers {
  private nowMs = 1_000;
  private next = 1;
  private readonly pending = new Map<number, { at: number; run: () => void }>();
  now = (): number => this.nowMs;
  setTimeout = (run: () => void, ms: number): unknown => {
    const id = this.next++;
    this.pending.set(id, { at: this.nowMs + ms, run });
    return id;
  };
  clearTimeout = (handle: unknown): void => void this.pending.delete(handle as number);
  /** When each pending timer is due, soonest first. */
  due(): number[] {
    return [...this.pending.values()].map((t) => t.at).sort((a, b) => a - b);
  }
  /** Move the clock to `at` without firing anything (the process was stopped). */
  jump(at: number): void {
    this.nowMs = at;
  }
  /** Move the clock forward, firing each timer due on the way in order, and let what they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      const [id, timer] = [...this.pending].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || timer === undefined || timer.at > end) break;
      this.pending.delete(id);
      this.nowMs = Math.max(this.nowMs, timer.at);
      timer.run();
      await settle();
    }
    this.nowMs = end;
  }
}

/** Let promise chains (a renewal's transaction on the file store) run to their end. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(options: { heartbeat?: boolean; agentTimeoutMs?: number } = {}) {
  const registryClock = { now: 1_700_000_000_000 };
  const base = openContext({ cwd: tempDir(), config: DEFAULT_CONFIG, clock: () => registryClock.now });
  // A transaction can be held at its start (`gate`), as a store out of reach holds it.
  let gate: Promise<void> | undefined;
  let transactions = 0;
  const ctx: Context = {
    ...base,
    store: aroundTransactions(base.store, async (mode, fn, scope) => {
      transactions++;
      if (gate) await gate;
      return base.store.transact(mode, fn, scope);
    }),
  };
  const timers = new ManualTimers();
  const lost: LostLock[] = [];
  const failures: unknown[] = [];
  let renewals = 0;
  const agentTimeoutMs = options.agentTimeoutMs ?? 45_000;
  const run = (fn: Parameters<Context['store']['transact']>[1]) => base.store.transact('update', fn);
  const register = (name: string) => base.store.transact('update', ({ registry, nowMs }) => registry.register(name, nowMs, { timeoutMs: 3_600_000 }), { newId: true });
  const lock = (agent: number, path: string, ttlMs: number) =>
    base.store.transact('update', ({ registry, nowMs }) => ({ granted: registry.tryLock(agent, path, ttlMs, nowMs) }), { agents: [agent], paths: [path] });
  const expiry = (agent: number, path: string) => base.store.transact('query', ({ registry }) => registry.get(agent)?.lockedPaths.get(path));
  const lease = (agent: number) =>
    new Lease(ctx, {
      agent,
      agentTimeoutMs,
      heartbeat: options.heartbeat,
      timers,
      events: { lost: (locks) => lost.push(...locks), failed: (error) => failures.push(error), renewed: () => renewals++ },
    });
  return {
    base,
    timers,
    registryClock,
    lost,
    failures,
    renewals: () => renewals,
    transactions: () => transactions,
    hold: (g: Promise<void> | undefined) => (gate = g),
    run,
    register,
    lock,
    expiry,
    lease,
  };
}

describe('the lease: one keeper of the locks held while something runs', () => {
  it('renews every third of the shortest TTL; a shorter TTL brings the next renewal forward, never back', async () => {
    const t = setup();
    const agent = await t.register('a');
    expect((await t.lock(agent, 'a.ts', 30_000)).granted).toBe(true);
    const lease = t.lease(agent);
    lease.hold(['a.ts'], 30_000);
    lease.start();
    const start = t.timers.now();
    // One renewal timer at a third of the TTL, one lapse timer just past the TTL.
    expect(t.timers.due()).toEqual([start + 10_000, start + 30_001]);
    // A 3 s lock: the next renewal comes at 1 s; a 60 s one afterwards does not put it off.
    expect((await t.lock(agent, 'b.ts', 3_000)).granted).toBe(true);
    lease.hold(['b.ts'], 3_000);
    expect(t.timers.due()[0]).toBe(start + 1_000);
    t.timers.jump(start + 500);
    expect((await t.lock(agent, 'c.ts', 60_000)).granted).toBe(true);
    lease.hold(['c.ts'], 60_000);
    expect(t.timers.due()[0]).toBe(start + 1_000);

    t.registryClock.now += 1_000;
    await t.timers.advance(500);
    expect(t.renewals()).toBe(1);
    // Each lock renewed for its own TTL from the registry's time of the renewal.
    const now = t.registryClock.now;
    expect([await t.expiry(agent, 'a.ts'), await t.expiry(agent, 'b.ts'), await t.expiry(agent, 'c.ts')]).toEqual([now + 30_000, now + 3_000, now + 60_000]);
    expect(t.lost).toEqual([]);
    await lease.stop();
    expect(t.timers.due()).toEqual([]);
  });

  it('a lock broken and taken by another agent is reported once with its new holder, and never renewed again', async () => {
    const t = setup();
    const me = await t.register('me');
    const other = await t.register('other');
    await t.lock(me, 'a.ts', 30_000);
    await t.lock(me, 'b.ts', 30_000);
    const lease = t.lease(me);
    lease.hold(['a.ts', 'b.ts'], 30_000);
    lease.start();
    await t.run(({ registry, nowMs }) => registry.forceRelease('a.ts', nowMs));
    expect((await t.lock(other, 'a.ts', 30_000)).granted).toBe(true);

    t.registryClock.now += 10_000;
    await t.timers.advance(10_000);
    expect(t.lost).toMatchObject([{ path: 'a.ts', holders: [{ agent: { id: other, name: 'other' }, mode: 'exclusive' }], why: 'lost' }]);
    expect(t.lost[0]?.holders).toHaveLength(1);
    expect(lease.paths()).toEqual(['b.ts']);
    // The other agent keeps it; b.ts goes on being renewed; the loss is not reported again.
    t.registryClock.now += 10_000;
    await t.timers.advance(10_000);
    expect(t.lost).toHaveLength(1);
    expect(await t.expiry(other, 'a.ts')).toBe(t.registryClock.now - 20_000 + 30_000);
    expect(await t.expiry(me, 'b.ts')).toBe(t.registryClock.now + 30_000);
    expect(await t.expiry(me, 'a.ts')).toBeUndefined();
    await lease.stop();
  });

  it('a lapse is noticed by its own timer while a renewal is stuck on the store, and that renewal then extends nothing', async () => {
    const t = setup();
    const me = await t.register('me');
    await t.lock(me, 'a.ts', 3_000);
    const granted = await t.expiry(me, 'a.ts');
    const lease = t.lease(me);
    lease.hold(['a.ts'], 3_000);
    lease.start();
    // The store stops answering: the renewal at 1 s waits at its start.
    let reach!: () => void;
    t.hold(new Promise<void>((resolve) => (reach = resolve)));
    await t.timers.advance(1_000);
    expect(t.transactions()).toBe(1);
    expect(t.lost).toEqual([]);
    // 3 s after the grant, by the lease's clock, the lock is lost, though the renewal has not come back.
    await t.timers.advance(2_001);
    expect(t.lost).toEqual([{ path: 'a.ts', holders: [], retry_after_ms: null, why: 'lapsed' }]);
    // The store answers again, its own clock not yet past the expiry: the stuck renewal does not extend it.
    t.registryClock.now += 2_500;
    t.hold(undefined);
    reach();
    await settle();
    expect(await t.expiry(me, 'a.ts')).toBe(granted);
    expect(t.lost).toHaveLength(1);
    expect(lease.paths()).toEqual([]);
    await lease.stop();
  });

  it('a process stopped past the TTL (the clock jumps, no timer ran) renews nothing on waking and reports the lapse once', async () => {
    const t = setup();
    const me = await t.register('me');
    await t.lock(me, 'a.ts', 3_000);
    const granted = await t.expiry(me, 'a.ts');
    const lease = t.lease(me);
    lease.hold(['a.ts'], 3_000);
    lease.start();
    t.timers.jump(t.timers.now() + 5_000);
    // Whichever timer runs first on waking, the lock is reported lapsed once and not extended.
    await lease.renew();
    await t.timers.advance(0);
    expect(t.lost).toEqual([{ path: 'a.ts', holders: [], retry_after_ms: null, why: 'lapsed' }]);
    expect(await t.expiry(me, 'a.ts')).toBe(granted);
    await lease.stop();
  });

  it('a failed renewal is reported and retried; the locks stand until a whole TTL passes without one', async () => {
    const t = setup();
    const me = await t.register('me');
    await t.lock(me, 'a.ts', 3_000);
    const lease = t.lease(me);
    lease.hold(['a.ts'], 3_000);
    lease.start();
    t.hold(Promise.reject(new Error('store out of reach')));
    await t.timers.advance(1_000);
    expect(t.failures.map((e) => (e as Error).message)).toEqual(['store out of reach']);
    expect(t.lost).toEqual([]);
    // Back before the TTL ran out: renewed from the registry's time then, and the lapse moves with it.
    t.hold(undefined);
    t.registryClock.now += 2_000;
    await t.timers.advance(1_000);
    expect(t.renewals()).toBe(1);
    expect(await t.expiry(me, 'a.ts')).toBe(t.registryClock.now + 3_000);
    expect(t.timers.due().at(-1)).toBe(t.timers.now() + 3_001);
    expect(t.lost).toEqual([]);
    await lease.stop();
  });

  it('released paths are neither renewed nor reported lost; restored ones are held again; tagged ones go together', async () => {
    const t = setup();
    const me = await t.register('me');
    for (const path of ['a.ts', 'b.ts', 'c.ts']) await t.lock(me, path, 30_000);
    const lease = t.lease(me);
    expect(lease.hold(['a.ts'], 30_000, 1)).toEqual(['a.ts']);
    expect(lease.hold(['a.ts', 'b.ts'], 30_000, 2)).toEqual(['b.ts']);
    lease.hold(['c.ts'], 30_000, 3);
    const released = lease.release(['c.ts']);
    await t.run(({ registry }) => registry.releaseLock(me, 'c.ts'));
    expect(await lease.renew()).toBe(true);
    expect(t.lost).toEqual([]);
    lease.restore(released);
    expect(lease.paths()).toEqual(['a.ts', 'b.ts', 'c.ts']);
    // The request that took b.ts gives it back; a.ts was taken by request 1 and stays.
    expect(lease.releaseTagged(2)).toEqual(['b.ts']);
    expect(lease.paths()).toEqual(['a.ts', 'c.ts']);
  });

  it('heartbeats the agent with no lock held only when asked to (an MCP session), and stops renewing at stop()', async () => {
    const quiet = setup();
    const me = await quiet.register('me');
    const idle = quiet.lease(me);
    idle.start();
    const before = quiet.transactions();
    expect(await idle.renew()).toBe(true);
    expect(quiet.transactions()).toBe(before);
    await idle.stop();

    const t = setup({ heartbeat: true, agentTimeoutMs: 3_000 });
    const agent = await t.register('session');
    const lease = t.lease(agent);
    lease.start();
    expect(t.timers.due()).toEqual([t.timers.now() + 1_000]);
    t.registryClock.now += 1_000;
    await t.timers.advance(1_000);
    const seen = await t.base.store.transact('query', ({ registry }) => registry.get(agent)?.lastSeenMs);
    expect(seen).toBe(t.registryClock.now);
    await lease.stop();
    expect(t.timers.due()).toEqual([]);
    const count = t.transactions();
    await t.timers.advance(10_000);
    expect(t.transactions()).toBe(count);
  });
});
