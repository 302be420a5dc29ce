import { afterAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/commands/context.js';
import { openContext } from '../../src/commands/create-context.js';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';
import { LockCancelled } from '../../src/commands/lock.js';
import { ToolSession } from '../../src/mcp/session.js';
import { removeTempDirs, tempDir } from '../helpers/cli.js';
import { aroundTransactions } from '../helpers/in-process.js';

// An MCP session's tool calls over a real state file, without a transport: the moments a cancellation can
// arrive (before the grant, while it commits, after the answer) are placed exactly, not raced.

afterAll(removeTempDirs);

function setup(afterUpdate?: () => void) {
  const base = openContext({ cwd: tempDir(), config: DEFAULT_CONFIG });
  // `afterUpdate` runs when an update transaction has committed, before its caller sees the result.
  const ctx: Context = {
    ...base,
    store: aroundTransactions(base.store, async (mode, fn, scope) => {
      const result = await base.store.transact(mode, fn, scope);
      if (mode === 'update') afterUpdate?.();
      return result;
    }),
  };
  const lines: string[] = [];
  const session = new ToolSession(ctx, { lockTtlMs: 30_000, agentTimeoutMs: 45_000, pathBase: ctx.workspace.root }, (l) => lines.push(l));
  const held = () => base.store.transact('query', ({ registry, nowMs }) => [...(registry.get(1)?.lockedPaths ?? [])].filter(([, e]) => e > nowMs).map(([p]) => p).sort());
  return { ctx, session, lines, held, register: async () => (session.agent = { id: await base.store.transact('update', ({ registry, nowMs }) => registry.register('mcp: t', nowMs)), name: 'mcp: t' }) };
}

describe('an MCP session never leaves a lock the client was told it did not get', () => {
  it('a lock cancelled before its transaction runs takes nothing', async () => {
    const { session, held, register } = setup();
    await register();
    const controller = new AbortController();
    controller.abort();
    await expect(session.call('lock', { paths: ['a.ts'] }, controller.signal, 1)).rejects.toBeInstanceOf(LockCancelled);
    expect(await held()).toEqual([]);
  });

  it('a lock granted while its cancellation arrived is given back in the same call', async () => {
    const controller = new AbortController();
    let armed = false;
    const { session, held, lines, register } = setup(() => armed && controller.abort());
    await register();
    expect((await session.call('lock', { paths: ['mine.ts'] }, new AbortController().signal, 1)).structuredContent).toMatchObject({ granted: true });
    armed = true;
    await expect(session.call('lock', { paths: ['mine.ts', 'new.ts'] }, controller.signal, 2)).rejects.toBeInstanceOf(LockCancelled);
    // The lock it held before (and was told of) stays; the one taken for the cancelled request is gone.
    expect(await held()).toEqual(['mine.ts']);
    expect(lines.join('\n')).toContain('lock request 2 was cancelled: released new.ts');
  });

  it('a cancellation that crosses its answer gives back exactly the locks that request took', async () => {
    const { session, held, register } = setup();
    await register();
    const live = new AbortController().signal;
    await session.call('lock', { paths: ['a.ts'] }, live, 1);
    await session.call('lock', { paths: ['a.ts', 'b.ts'] }, live, 2);
    await session.call('lock', { paths: ['c.ts'] }, live, 3);
    await session.cancelled(2);
    expect(await held()).toEqual(['a.ts', 'c.ts']);
    // Not renewed any more either, and not reported lost: the client never had it.
    await session.renew();
    const next = await session.call('status', {}, live, 4);
    expect(next.structuredContent?.lost_locks).toBeUndefined();
  });

  it('a path released while a renewal runs is not reported lost', async () => {
    let releaseDuringRenewal: (() => Promise<unknown>) | undefined;
    const { session, ctx, register } = setup();
    await register();
    const live = new AbortController().signal;
    await session.call('lock', { paths: ['a.ts'] }, live, 1);
    // The release commits between the renewal's snapshot of the locks and its transaction.
    const transact = ctx.store.transact;
    (ctx.store as { transact: typeof transact }).transact = async (mode, fn) => {
      const run = releaseDuringRenewal;
      releaseDuringRenewal = undefined;
      if (run) await run();
      return transact(mode, fn);
    };
    releaseDuringRenewal = () => session.call('release', { paths: ['a.ts'] }, live, 2);
    expect(await session.renew()).toBe(true);
    expect((await session.call('status', {}, live, 3)).structuredContent?.lost_locks).toBeUndefined();
  });
});
