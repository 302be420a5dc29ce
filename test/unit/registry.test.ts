import { decodeSnapshot, encodeSnapshot } from '../../src/store/codec.js';
import { describe, expect, it } from 'vitest';
import { AgentRegistry, DEFAULT_CONFIG, IdSpaceExhaustedError, locksOverlap } from '../../src/core/registry.js';

const newRegistry = (): AgentRegistry => new AgentRegistry(DEFAULT_CONFIG);

// The seed's six tests, ported one to one.
describe('seed tests (agents.rs)', () => {
  it('register then heartbeat keeps agent active', () => {
    const reg = newRegistry();
    const id = reg.register('editor', 1_000);
    expect(reg.get(id)?.state).toBe('active');
    reg.heartbeat(id, 5_000);
    expect(reg.get(id)?.lastSeenMs).toBe(5_000);
    expect(reg.get(id)?.state).toBe('active');
  });

  it('reap marks silent agents crashed and drops locks', () => {
    const reg = newRegistry();
    const id = reg.register('editor', 0);
    expect(reg.tryLock(id, 'src/main.rs', undefined, 0)).toBe(true);
    reg.reap(60_000);
    expect(reg.get(id)?.state).toBe('crashed');
    expect(reg.get(id)?.lockedPaths.size).toBe(0);
    expect(reg.lockHolder('src/main.rs', 60_000)).toBeUndefined();
  });

  it('try_lock blocks other agents until expiry', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    expect(reg.tryLock(a, 'f.rs', 1_000, 0)).toBe(true);
    expect(reg.tryLock(b, 'f.rs', 1_000, 100)).toBe(false);
    expect(reg.tryLock(b, 'f.rs', 1_000, 5_000)).toBe(true);
    expect(reg.lockHolder('f.rs', 5_000)).toBe(b);
  });

  it('release_lock lets others acquire immediately', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'x', undefined, 0);
    reg.releaseLock(a, 'x');
    expect(reg.tryLock(b, 'x', undefined, 100)).toBe(true);
  });

  it('heartbeat resurrects a crashed agent', () => {
    const reg = newRegistry();
    const id = reg.register('a', 0);
    reg.reap(60_000);
    expect(reg.get(id)?.state).toBe('crashed');
    reg.heartbeat(id, 70_000);
    expect(reg.get(id)?.state).toBe('active');
  });

  it('snapshot round trips through serialized form', () => {
    const reg = newRegistry();
    const id = reg.register('editor', 100);
    reg.tryLock(id, 'src/main.rs', 1_000, 100);
    const restored = AgentRegistry.fromSnapshot(reg.config, decodeSnapshot(encodeSnapshot(reg.snapshot())));
    expect(restored.get(id)?.name).toBe('editor');
    expect(restored.get(id)?.lockedPaths.get('src/main.rs')).toBe(1_100);
  });
});

describe('register', () => {
  it('hands out ids from next_id, starting at 1, never twice', () => {
    const reg = newRegistry();
    expect(reg.register('a', 0)).toBe(1);
    expect(reg.register('b', 0)).toBe(2);
    reg.unregister(2);
    expect(reg.register('c', 0)).toBe(3);
    expect(reg.nextId).toBe(4);
  });

  it('an explicit id pushes next_id past it, and a lower one leaves next_id alone', () => {
    const reg = newRegistry();
    expect(reg.registerWithId(10, 'x', 0)).toBe(10);
    expect(reg.nextId).toBe(11);
    reg.registerWithId(4, 'y', 0);
    expect(reg.nextId).toBe(11);
    expect(reg.register('z', 0)).toBe(11);
  });

  it('an explicit id replaces the record under it whole, as in the seed', () => {
    const reg = newRegistry();
    const id = reg.register('old', 0);
    reg.tryLock(id, 'a', undefined, 0);
    reg.noteEdit(id, 0);
    reg.registerWithId(id, 'new', 10);
    expect(reg.get(id)).toMatchObject({ name: 'new', editCount: 0, lastSeenMs: 10 });
    expect(reg.get(id)?.lockedPaths.size).toBe(0);
  });

  it('refuses to wrap around when the id space is used up', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG, { nextId: Number.MAX_SAFE_INTEGER, agents: [], extra: [] });
    expect(() => reg.register('a', 0)).toThrow(IdSpaceExhaustedError);
  });
});

describe('heartbeat, unregister, note-edit', () => {
  it('heartbeat of an unknown id registers it as agent-<id> and moves next_id past it', () => {
    const reg = newRegistry();
    const agent = reg.heartbeat(42, 7);
    expect(agent).toMatchObject({ id: 42, name: 'agent-42', state: 'active', lastSeenMs: 7 });
    expect(reg.nextId).toBe(43);
  });

  it('heartbeat leaves a gone agent gone (only crashed comes back)', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG, {
      nextId: 2,
      agents: [{ id: 1, name: 'g', state: 'gone', lastSeenMs: 0, editCount: 0, lockedPaths: new Map(), lockReasons: new Map(), extra: [] }],
      extra: [],
    });
    expect(reg.heartbeat(1, 5).state).toBe('gone');
  });

  it('unregister removes the record and its locks; unknown ids are a no-op', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'p', undefined, 0);
    expect(reg.unregister(a)).toBe(true);
    expect(reg.unregister(a)).toBe(false);
    expect(reg.tryLock(b, 'p', undefined, 1)).toBe(true);
  });

  it('note-edit counts edits and refreshes last_seen; an unknown agent counts nothing', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    expect(reg.noteEdit(a, 5)).toBe(true);
    expect(reg.noteEdit(a, 9)).toBe(true);
    expect(reg.get(a)).toMatchObject({ editCount: 2, lastSeenMs: 9 });
    expect(reg.noteEdit(99, 9)).toBe(false);
    expect(reg.get(99)).toBeUndefined();
  });
});

describe('locks', () => {
  it('a lock is held while expiry > now and free at expiry == now', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'f', 1_000, 0);
    expect(reg.holderOf('f', 999)?.agent.id).toBe(a);
    expect(reg.tryLock(b, 'f', 1_000, 999)).toBe(false);
    expect(reg.holderOf('f', 1_000)).toBeUndefined();
    expect(reg.tryLock(b, 'f', 1_000, 1_000)).toBe(true);
  });

  it('re-locking by the holder extends the lock and refreshes last_seen', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    reg.tryLock(a, 'f', 1_000, 0);
    expect(reg.tryLock(a, 'f', 1_000, 800)).toBe(true);
    expect(reg.get(a)?.lockedPaths.get('f')).toBe(1_800);
    expect(reg.get(a)?.lastSeenMs).toBe(800);
  });

  it('uses the default TTL when none is given', () => {
    const reg = new AgentRegistry({ defaultLockTtlMs: 5_000, agentTimeoutMs: 45_000 });
    const a = reg.register('a', 0);
    reg.tryLock(a, 'f', undefined, 100);
    expect(reg.get(a)?.lockedPaths.get('f')).toBe(5_100);
  });

  it('locking with an unknown agent registers it as agent-<id>', () => {
    const reg = newRegistry();
    expect(reg.tryLock(7, 'f', undefined, 0)).toBe(true);
    expect(reg.get(7)?.name).toBe('agent-7');
  });

  it('lockAll is all or nothing and names every conflict', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'x', 1_000, 0);
    reg.tryLock(a, 'z', 2_000, 0);
    const result = reg.lockAll(b, ['w', 'x', 'y', 'z'], undefined, 10);
    expect(result.granted).toBe(false);
    if (result.granted) return;
    expect(result.conflicts.map((c) => [c.path, c.holder.id, c.expiresMs])).toEqual([
      ['x', a, 1_000],
      ['z', a, 2_000],
    ]);
    expect(reg.get(b)?.lockedPaths.size).toBe(0);
    expect(reg.lockAll(b, ['w', 'y'], undefined, 10).granted).toBe(true);
  });

  it('improvement 1: a lock granted to a crashed agent brings it back to active', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    reg.reap(50_000);
    expect(reg.get(a)?.state).toBe('crashed');
    expect(reg.tryLock(a, 'f', undefined, 50_000)).toBe(true);
    expect(reg.get(a)?.state).toBe('active');
    // And so the next reap can clear the lock again once the agent goes silent.
    reg.reap(50_000 + 45_001);
    expect(reg.get(a)?.lockedPaths.size).toBe(0);
  });

  it('a refused lock changes nothing', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'f', undefined, 0);
    const before = JSON.stringify([...reg.agents()].map((x) => [x.id, x.lastSeenMs, [...x.lockedPaths]]));
    expect(reg.tryLock(b, 'f', undefined, 10)).toBe(false);
    expect(JSON.stringify([...reg.agents()].map((x) => [x.id, x.lastSeenMs, [...x.lockedPaths]]))).toBe(before);
  });

  it('an expired entry left in another agent does not hide the live holder', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'f', 100, 0);
    reg.tryLock(b, 'f', 1_000, 200); // a's entry is expired but still recorded, as in the seed
    expect(reg.get(a)?.lockedPaths.has('f')).toBe(true);
    expect(reg.holderOf('f', 300)?.agent.id).toBe(b);
    expect(reg.tryLock(a, 'f', 100, 300)).toBe(false);
  });

  it('the path index follows releases and unregisters within one registry', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'f', undefined, 0);
    expect(reg.holderOf('f', 1)?.agent.id).toBe(a);
    reg.releaseLock(a, 'f');
    expect(reg.holderOf('f', 1)).toBeUndefined();
    reg.tryLock(b, 'f', undefined, 1);
    expect(reg.holderOf('f', 2)?.agent.id).toBe(b);
    reg.unregister(b);
    expect(reg.holderOf('f', 2)).toBeUndefined();
  });
});

describe('reap', () => {
  it('at exactly the timeout an agent is still active; one ms later it is crashed', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    expect(reg.reap(45_000)).toEqual([]);
    expect(reg.get(a)?.state).toBe('active');
    expect(reg.reap(45_001).map((x) => x.id)).toEqual([a]);
    expect(reg.get(a)?.state).toBe('crashed');
  });

  it('is idempotent and leaves crashed and gone agents alone', () => {
    const reg = newRegistry();
    reg.register('a', 0);
    expect(reg.reap(100_000)).toHaveLength(1);
    expect(reg.reap(100_000)).toHaveLength(0);
    expect(reg.reap(200_000)).toHaveLength(0);
  });

  it('uses the configured timeout', () => {
    const reg = new AgentRegistry({ defaultLockTtlMs: 30_000, agentTimeoutMs: 1_000 });
    const a = reg.register('a', 0);
    reg.reap(1_001);
    expect(reg.get(a)?.state).toBe('crashed');
  });

  it('try_lock and lock_holder reap first, so a silent holder does not block', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.tryLock(a, 'f', 600_000, 0); // long TTL, but a goes silent
    reg.heartbeat(b, 50_000);
    expect(reg.lockHolder('f', 50_000)).toBeUndefined();
    expect(reg.tryLock(b, 'f', undefined, 50_000)).toBe(true);
  });
});

describe('changed', () => {
  it('is false after reads and a quiet reap, true after any mutation', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG, {
      nextId: 2,
      agents: [{ id: 1, name: 'a', state: 'active', lastSeenMs: 0, editCount: 0, lockedPaths: new Map([["f", 10]]), lockReasons: new Map(), extra: [] }],
      extra: [],
    });
    reg.reap(100);
    reg.holderOf('f', 5);
    reg.releaseLock(1, 'not-held');
    reg.unregister(99);
    expect(reg.changed).toBe(false);
    reg.noteEdit(1, 200);
    expect(reg.changed).toBe(true);
  });
});

describe('directory locks', () => {
  it('a directory lock conflicts with a lock under it, and the other way round', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    expect(reg.tryLock(a, 'src/api/', undefined, 0)).toBe(true);
    expect(reg.tryLock(b, 'src/api/users.ts', undefined, 1)).toBe(false);
    expect(reg.tryLock(b, 'src/api/deep/x.ts', undefined, 1)).toBe(false);
    expect(reg.tryLock(b, 'src/api', undefined, 1)).toBe(false);
    expect(reg.tryLock(b, 'src/apiary.ts', undefined, 1)).toBe(true);
    expect(reg.tryLock(b, 'src/other.ts', undefined, 1)).toBe(true);
    expect(reg.tryLock(b, 'src/', undefined, 1)).toBe(false);
    reg.releaseLock(a, 'src/api/');
    expect(reg.tryLock(b, 'src/api/users.ts', undefined, 2)).toBe(true);
    expect(reg.tryLock(a, 'src/api/', undefined, 3)).toBe(false);
    expect(reg.tryLock(a, 'src/', undefined, 3)).toBe(false);
  });

  it('holderOf reports the directory holding a file, and a file holding part of a directory', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    reg.lockAll(a, ['docs/'], 1_000, 0, 'rewriting the docs');
    expect(reg.holderOf('docs/guide/intro.md', 10)).toMatchObject({ path: 'docs/', reason: 'rewriting the docs', expiresMs: 1_000 });
    const b = reg.register('b', 0);
    reg.tryLock(b, 'lib/x.ts', 1_000, 0);
    expect(reg.holderOf('lib/', 10)).toMatchObject({ path: 'lib/x.ts' });
    expect(reg.holderOf('lib/', 10, b)).toBeUndefined();
  });

  it('locksOverlap is exact prefix semantics on normalised paths', () => {
    expect(locksOverlap('a/', 'a/b')).toBe(true);
    expect(locksOverlap('a/b', 'a/')).toBe(true);
    expect(locksOverlap('a/', 'a')).toBe(true);
    expect(locksOverlap('a/', 'ab')).toBe(false);
    expect(locksOverlap('a/b', 'a/c')).toBe(false);
    expect(locksOverlap('a/', 'b/')).toBe(false);
  });
});

describe('reasons and force release', () => {
  it('a reason is kept on renewal without one, replaced by a new one, dropped on release and reap', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    reg.lockAll(a, ['f'], 1_000, 0, 'first');
    reg.lockAll(a, ['f'], 1_000, 10);
    expect(reg.get(a)?.lockReasons.get('f')).toBe('first');
    reg.lockAll(a, ['f'], 1_000, 20, 'second');
    expect(reg.holderOf('f', 30)?.reason).toBe('second');
    reg.releaseLock(a, 'f');
    expect(reg.get(a)?.lockReasons.size).toBe(0);
    reg.lockAll(a, ['g'], 1_000, 40, 'third');
    reg.reap(100_000);
    expect(reg.get(a)?.lockReasons.size).toBe(0);
  });

  it('forceRelease breaks every live lock on exactly that path', () => {
    const reg = newRegistry();
    const a = reg.register('a', 0);
    const b = reg.register('b', 0);
    reg.lockAll(a, ['f', 'dir/'], 1_000, 0, 'why');
    const broken = reg.forceRelease('f', 10);
    expect(broken.map((h) => [h.agent.id, h.path, h.reason])).toEqual([[a, 'f', 'why']]);
    expect(reg.tryLock(b, 'f', undefined, 11)).toBe(true);
    expect(reg.forceRelease('dir/x', 12)).toEqual([]);
    expect(reg.holderOf('dir/x', 12)?.agent.id).toBe(a);
  });
});
