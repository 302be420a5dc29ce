import { describe, expect, it } from 'vitest';
import type { Context } from '../../src/commands/context.js';
import { lockNormalised, waitPollMs, type LockResult } from '../../src/commands/lock.js';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';
import { encodeSnapshot } from '../../src/store/codec.js';
import { applyTransaction, type Store, type TransactionMode } from '../../src/store/transaction.js';
import { AgentRegistry } from '../../src/core/registry.js';

const HOUR = 3_600_000;

/**
 * A store whose clock (a PostgreSQL server's, say) is `skewMs` behind the client's, holding `a.ts` for
 * agent 1 for a minute past the store's start time. It counts the transactions it runs.
 */
function skewedStore(clientClock: () => number, skewMs: number): Store & { transactions: number } {
  const start = clientClock() - skewMs;
  const registry = new AgentRegistry(DEFAULT_CONFIG);
  registry.registerWithId(1, 'holder', start);
  registry.lockAll(1, ['a.ts'], 60_000, start);
  const text = encodeSnapshot(registry.snapshot());
  const store = {
    transactions: 0,
    location: 'test',
    async transact<R>(_mode: TransactionMode, fn: Parameters<Store['transact']>[1]): Promise<R> {
      store.transactions++;
      return applyTransaction(text, DEFAULT_CONFIG, clientClock() - skewMs, 'test', fn).result as R;
    },
    async readEvents() {
      return { events: [], skipped: 0 };
    },
    async close() {},
  };
  return store;
}

/** A context on a fake clock that only `sleep` moves. */
function fakeContext(skewMs: number): { ctx: Context; store: ReturnType<typeof skewedStore> } {
  let now = 1_800_000_000_000;
  const clock = () => now;
  const store = skewedStore(clock, skewMs);
  const ctx: Context = {
    workspace: { root: '/w', pathRoot: '/w', cwd: '/w', stateDir: '/w/.harn', statePath: '/w/.harn/agents.json', trusted: false, git: () => null },
    store,
    config: DEFAULT_CONFIG,
    clock,
    sleep: async (ms) => {
      now += ms;
    },
  };
  return { ctx, store };
}

describe('lock --wait polls at a bounded rate whatever the clocks say', () => {
  it.each([
    ['the client clock an hour ahead of the store', HOUR],
    ['the client clock an hour behind the store', -HOUR],
    ['both clocks agreeing', 0],
  ])('%s: a 5 s wait runs at most one transaction per 50 ms', async (_what, skew) => {
    const { ctx, store } = fakeContext(skew);
    const result = await lockNormalised(ctx, ['a.ts'], { agent: 2, waitMs: 5_000 });
    expect(result.granted).toBe(false);
    expect(result.conflicts[0]?.holders[0]?.agent.id).toBe(1);
    // At least one try per 200 ms (a released lock is picked up quickly), at most one per 50 ms.
    expect(store.transactions).toBeGreaterThanOrEqual(5_000 / 200);
    expect(store.transactions).toBeLessThanOrEqual(5_000 / 50 + 2);
  });

  it('sleeps until the soonest expiry on the answer\'s own timeline, between 50 and 200 ms, never past the wait', () => {
    const refused = (expires: number, now: number): LockResult => ({
      granted: false,
      agent: 2,
      now_ms: now,
      locks: [],
      conflicts: [{ path: 'a.ts', holders: [{ path: 'a.ts', kind: 'path', mode: 'exclusive', slots: null, agent: { id: 1, name: 'h' }, expires_ms: expires, reason: null }], retry_after_ms: expires - now }],
      retry_after_ms: expires - now,
    });
    expect(waitPollMs(refused(1_100, 1_000), 10_000)).toBe(101);
    expect(waitPollMs(refused(1_000 + HOUR, 1_000), 10_000)).toBe(200);
    expect(waitPollMs(refused(1_000 - HOUR, 1_000), 10_000)).toBe(50);
    expect(waitPollMs(refused(1_010, 1_000), 10_000)).toBe(50);
    expect(waitPollMs(refused(1_100, 1_000), 30)).toBe(30);
  });
});
