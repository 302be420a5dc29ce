import { describe, expect, it } from 'vitest';
import { overlap, PRODUCT_LIMIT } from '../../src/core/glob.js';
import { AgentRegistry } from '../../src/core/registry.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/store/codec.js';

const T0 = 1_800_000_000_000;
const SHARED = { mode: 'shared' } as const;

function registry(): AgentRegistry {
  const reg = new AgentRegistry({ defaultLockTtlMs: 60_000, agentTimeoutMs: 600_000 });
  for (const id of [1, 2, 3]) reg.registerWithId(id, `agent-${id}`, T0);
  return reg;
}

describe('shared locks (in-process, injected clock)', () => {
  it('two agents hold docs/x.md shared while an exclusive lock is refused, naming both', () => {
    const reg = registry();
    expect(reg.lockAll(1, ['docs/x.md'], undefined, T0, 'reading', SHARED).granted).toBe(true);
    expect(reg.lockAll(2, ['docs/x.md'], undefined, T0, undefined, SHARED).granted).toBe(true);
    const refused = reg.lockAll(3, ['docs/x.md'], undefined, T0);
    expect(refused.granted).toBe(false);
    if (refused.granted) return;
    expect(refused.conflicts.map((c) => [c.holder.id, c.hold.mode, c.reason])).toEqual([
      [1, 'shared', 'reading'],
      [2, 'shared', undefined],
    ]);
    // The other way round: an exclusive holder refuses a shared lock.
    expect(reg.lockAll(3, ['docs/y.md'], undefined, T0).granted).toBe(true);
    expect(reg.lockAll(1, ['docs/y.md'], undefined, T0, undefined, SHARED).granted).toBe(false);
  });

  it('directories: exclusive docs/ is refused beside a shared holder below; a shared docs/ is granted', () => {
    const reg = registry();
    reg.lockAll(1, ['docs/x.md'], undefined, T0, undefined, SHARED);
    expect(reg.lockAll(2, ['docs/'], undefined, T0).granted).toBe(false);
    expect(reg.lockAll(2, ['docs/'], undefined, T0, undefined, SHARED).granted).toBe(true);
    // And a shared directory refuses an exclusive lock below it.
    expect(reg.lockAll(3, ['docs/z.md'], undefined, T0).granted).toBe(false);
    // A shared hold is a hold for check/holder.
    expect(reg.holdersOf('docs/x.md', T0).map((h) => [h.agent.id, h.path, h.mode])).toEqual([
      [1, 'docs/x.md', 'shared'],
      [2, 'docs/', 'shared'],
    ]);
  });

  it('an expired exclusive lock holds nothing; an agent can turn its shared lock exclusive when alone', () => {
    const reg = registry();
    reg.lockAll(1, ['a'], 1_000, T0, undefined, SHARED);
    expect(reg.lockAll(1, ['a'], undefined, T0).granted).toBe(true);
    expect(reg.holderOf('a', T0)?.mode).toBe('exclusive');
    expect(reg.lockAll(2, ['b'], 1_000, T0).granted).toBe(true);
    expect(reg.lockAll(3, ['b'], undefined, T0 + 1_000).granted).toBe(true);
  });
});

describe('resources with slots', () => {
  it('@gpu --slots 2 admits exactly two, the third is refused, and granted after a release', () => {
    const reg = registry();
    expect(reg.lockAll(1, ['@gpu'], undefined, T0, undefined, { slots: 2 }).granted).toBe(true);
    expect(reg.lockAll(2, ['@gpu'], undefined, T0, undefined, { slots: 2 }).granted).toBe(true);
    const third = reg.lockAll(3, ['@gpu'], undefined, T0, undefined, { slots: 2 });
    expect(third.granted).toBe(false);
    if (!third.granted) expect(third.conflicts.map((c) => c.holder.id)).toEqual([1, 2]);
    reg.releaseLock(1, '@gpu');
    expect(reg.lockAll(3, ['@gpu'], undefined, T0, undefined, { slots: 2 }).granted).toBe(true);
  });

  it('other slots than the holders have are exit 2, naming the count; a resource has no directory meaning', () => {
    const reg = registry();
    reg.lockAll(1, ['@db'], undefined, T0, undefined, { slots: 2 });
    expect(() => reg.lockAll(2, ['@db'], undefined, T0)).toThrow(/@db has 2 slots \(agent 1 holds it so\), not 1: lock it with --slots 2/);
    reg.lockAll(1, ['@git/index'], undefined, T0);
    expect(reg.lockAll(2, ['@git/'], undefined, T0).granted).toBe(true);
    expect(reg.lockAll(2, ['@git/index/x'], undefined, T0).granted).toBe(true);
    // A resource is not a path: no directory or pattern covers it.
    expect(reg.lockAll(3, ['**'], undefined, T0).granted).toBe(true);
    expect(reg.holdersOf('@gpu', T0)).toEqual([]);
  });
});

describe('pattern locks', () => {
  it('src/**/*.test.ts refuses src/a/b.test.ts and src/, and admits src/a/b.ts', () => {
    const reg = registry();
    expect(reg.lockAll(1, ['src/**/*.test.ts'], undefined, T0, 'refactor').granted).toBe(true);
    expect(reg.lockAll(2, ['src/a/b.test.ts'], undefined, T0).granted).toBe(false);
    expect(reg.lockAll(2, ['src/'], undefined, T0).granted).toBe(false);
    expect(reg.lockAll(2, ['src/a/b.ts'], undefined, T0).granted).toBe(true);
    // Other patterns: one that may match a common path is refused, one that cannot is granted.
    expect(reg.lockAll(3, ['src/a/*.ts'], undefined, T0).granted).toBe(false);
    expect(reg.lockAll(3, ['src/a/*.js'], undefined, T0).granted).toBe(true);
    // holder of a path finds the pattern holding it.
    expect(reg.holderOf('src/x/y.test.ts', T0)).toMatchObject({ path: 'src/**/*.test.ts', kind: 'pattern', reason: 'refactor' });
    // A pattern lock refuses a pattern under a directory lock, and the other way round.
    reg.lockAll(1, ['lib/'], undefined, T0);
    expect(reg.lockAll(2, ['lib/**/*.md'], undefined, T0).granted).toBe(false);
    expect(reg.lockAll(2, ['*.md'], undefined, T0).granted).toBe(true);
    expect(reg.lockAll(3, ['README.md'], undefined, T0).granted).toBe(false);
  });

  it('patterns whose overlap is not decided within the bound count as overlapping, and the refusal names the lock', () => {
    const a = `${'*a'.repeat(400)}b`;
    const b = `${'*a'.repeat(400)}c`;
    expect(overlap(a, b).overlap).toBe('undecided');
    expect(PRODUCT_LIMIT).toBeGreaterThan(0);
    const reg = registry();
    reg.lockAll(1, [a], undefined, T0);
    const refused = reg.lockAll(2, [b], undefined, T0);
    expect(refused.granted).toBe(false);
    if (!refused.granted) expect(refused.conflicts[0]?.heldPath).toBe(a);
  });

  it('the terms survive the state file: shared, slots and patterns read back the same', () => {
    const reg = registry();
    reg.lockAll(1, ['docs/x.md'], undefined, T0, undefined, SHARED);
    reg.lockAll(2, ['@gpu'], undefined, T0, undefined, { slots: 3 });
    reg.lockAll(3, ['src/**/*.ts'], undefined, T0);
    const text = encodeSnapshot(reg.snapshot());
    expect(text).toContain('"locks":{"1":{"docs/x.md":{"mode":"shared"}},"2":{"@gpu":{"slots":3}}}');
    // Every lock is also in the seed's locked_paths.
    expect(text).toContain('"locked_paths":{"docs/x.md":');
    const back = AgentRegistry.fromSnapshot(reg.config, decodeSnapshot(text));
    expect(back.holdersOf('docs/x.md', T0).map((h) => h.mode)).toEqual(['shared']);
    expect(back.holdersOf('@gpu', T0).map((h) => h.slots)).toEqual([3]);
    expect(encodeSnapshot(back.snapshot())).toBe(text);
  });
});

describe('harn.locks in the state file', () => {
  const file = (locks: string) =>
    `{"next_id":2,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{"a":1000,"@r":1000}}],"harn":{"locks":${locks}}}\n`;

  it('refuses a mode or slots no writer produces, naming where', () => {
    expect(() => decodeSnapshot(file('{"1":{"a":{"mode":"weird"}}}'))).toThrow('harn.locks["1"]["a"].mode must be "shared" or "exclusive"');
    expect(() => decodeSnapshot(file('{"1":{"@r":{"slots":0}}}'))).toThrow('harn.locks["1"]["@r"].slots must be at least 1');
    expect(() => decodeSnapshot(file('{"1":{"@r":{"slots":1.5}}}'))).toThrow('harn.locks["1"]["@r"].slots must be an integer');
    expect(() => decodeSnapshot(file('{"1":[]}'))).toThrow('harn.locks["1"] must be an object');
  });

  it('keeps members it does not know, drops terms of locks that are gone, and writes back the bytes it read', () => {
    const text = file('{"1":{"a":{"mode":"shared","since":"v9"},"gone.ts":{"mode":"shared"}}}');
    const reg = AgentRegistry.fromSnapshot({}, decodeSnapshot(text));
    expect(reg.holdersOf('a', 0).map((h) => h.mode)).toEqual(['shared']);
    expect(encodeSnapshot(reg.snapshot())).toBe(file('{"1":{"a":{"mode":"shared","since":"v9"}}}'));
    // Released, its terms go with it.
    reg.releaseLock(1, 'a');
    expect(encodeSnapshot(reg.snapshot())).not.toContain('"locks"');
  });
});

describe('pattern locks in a file read back', () => {
  it('are found however the file spells them (plain, or with a \\u escape), and a file without any skips the search', () => {
    const file = (key: string) =>
      `{"next_id":3,"agents":[{"id":1,"name":"a","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{${key}:1000}},{"id":2,"name":"b","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{"x.ts":1000}}]}\n`;
    for (const key of ['"src/*.ts"', '"src/\\u002a.ts"', '"src/\\u005bab].ts"']) {
      const reg = AgentRegistry.fromSnapshot({}, decodeSnapshot(file(key)));
      const name = key.includes('005b') ? 'src/a.ts' : 'src/q.ts';
      expect(reg.holderOf(name, 0)?.agent.id, key).toBe(1);
    }
    const plain = AgentRegistry.fromSnapshot({}, decodeSnapshot(file('"src/a.ts"')));
    expect(plain.holderOf('src/a.ts', 0)?.agent.id).toBe(1);
    expect(plain.holderOf('src/q.ts', 0)).toBeUndefined();
    // A pattern locked after the file was read is found too.
    expect(plain.lockAll(2, ['lib/**'], undefined, 0).granted).toBe(true);
    expect(plain.holderOf('lib/q.ts', 0)?.agent.id).toBe(2);
  });
});
