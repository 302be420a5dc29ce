import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachLock, lazyEmptyMap, SourcedLockMap } from '../../src/core/lock-map.js';
import { AgentRegistry, type ReadonlyAgent, type RegistrySnapshot } from '../../src/core/registry.js';
import { decodeChecked, decodeSnapshot, encodeSnapshot } from '../../src/store/codec.js';

// Keys that JSON.parse's objects order or treat specially: integer-like ones come first in for...in order.
const KEYS = ['a', 'b/', 'b/c', '__proto__', 'constructor', 'toString', '5', '10', '01', 'x:y'];

type MapOp =
  | { kind: 'get' | 'has' | 'delete'; key: string }
  | { kind: 'set'; key: string; value: number }
  | { kind: 'clear' | 'size' | 'entries' | 'keys' | 'values' | 'iterate' | 'forEach' | 'forEachLock' };

const mapOp: fc.Arbitrary<MapOp> = fc.oneof(
  fc.record({ kind: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...KEYS), value: fc.integer() }),
  fc.record({ kind: fc.constantFrom('clear' as const, 'size' as const, 'entries' as const, 'keys' as const, 'values' as const, 'iterate' as const, 'forEach' as const, 'forEachLock' as const) }),
);

/** One operation's answer, the same shape for a Map and a SourcedLockMap. */
function answer(map: Map<string, number>, op: MapOp): unknown {
  switch (op.kind) {
    case 'get':
      return map.get(op.key);
    case 'has':
      return map.has(op.key);
    case 'delete':
      return map.delete(op.key);
    case 'set':
      return map.set(op.key, op.value) === map;
    case 'clear':
      return map.clear();
    case 'size':
      return map.size;
    case 'entries':
      return [...map.entries()];
    case 'keys':
      return [...map.keys()];
    case 'values':
      return [...map.values()];
    case 'iterate':
      return [...map];
    case 'forEach': {
      const seen: unknown[] = [];
      map.forEach((value, key, self) => seen.push([key, value, self === map]));
      return seen;
    }
    case 'forEachLock': {
      const seen: unknown[] = [];
      forEachLock(map, (key, value) => seen.push([key, value]));
      return seen;
    }
  }
}

describe('SourcedLockMap against a Map filled up front (fast-check)', () => {
  it('gives every answer a Map gives, in the same order, and never changes its source', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), fc.integer()), fc.array(mapOp, { maxLength: 30 }), (entries, ops) => {
        // As the codec gets it: an object JSON.parse made (own "__proto__" key included).
        const text = JSON.stringify(entries);
        const source = JSON.parse(text) as Record<string, number>;
        const lazy = new SourcedLockMap(source);
        const eager = new Map(Object.entries(JSON.parse(text) as Record<string, number>));
        for (const op of ops) expect(answer(lazy, op), op.kind).toEqual(answer(eager, op));
        expect([...lazy]).toEqual([...eager]);
        expect(JSON.stringify(source)).toBe(text);
        expect(Object.prototype.toString.call(lazy)).toBe('[object Map]');
      }),
      { numRuns: 500 },
    );
  });

  it('an empty lazy map (lock reasons) behaves as an empty Map', () => {
    fc.assert(
      fc.property(fc.array(mapOp, { maxLength: 20 }), (ops) => {
        const lazy = lazyEmptyMap<number>();
        const eager = new Map<string, number>();
        for (const op of ops) expect(answer(lazy, op), op.kind).toEqual(answer(eager, op));
      }),
      { numRuns: 200 },
    );
  });

  it('forEachLock walks the entries as they were when it started', () => {
    const lazy = new SourcedLockMap(JSON.parse('{"a":1,"b":2}') as Record<string, number>);
    const seen: string[] = [];
    forEachLock(lazy, (key) => {
      seen.push(key);
      lazy.delete('b');
      lazy.set('c', 3);
    });
    expect(seen).toEqual(['a', 'b']);
    expect([...lazy]).toEqual([['a', 1], ['c', 3]]);
  });
});

/** What a decoded snapshot says, with maps as entry lists (a SourcedLockMap is not a Map instance). */
function plain(snapshot: RegistrySnapshot): unknown {
  const agent = (a: ReadonlyAgent) => ({ ...a, lockedPaths: [...a.lockedPaths], lockReasons: [...a.lockReasons] });
  return { ...snapshot, agents: snapshot.agents.map(agent) };
}

function outcome(decode: () => RegistrySnapshot): { snapshot: unknown; text: string } | { error: string } {
  try {
    const snapshot = decode();
    return { snapshot: plain(snapshot), text: encodeSnapshot(snapshot) };
  } catch (error) {
    return { error: String(error) };
  }
}

// State files near the valid ones: members in other orders, unknown members, bad values, repeated ids and
// keys, escapes, reasons and metas, colons in keys and strings.
const value = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(1.5, 2 ** 53, -(2 ** 53), '5', 'a:b', null, true, [], {}, { 'k:': [1, { x: 'y' }] }));
/** Mostly a valid member, now and then any value. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 40, arbitrary: valid }, { weight: 1, arbitrary: value });
const lockPath = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 }));
const agentRecord = fc
  .tuple(
    fc.record({
      id: mostly(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 10_000 }))),
      name: mostly(fc.string({ maxLength: 6 })),
      state: mostly(fc.constantFrom('active', 'crashed', 'gone')),
      last_seen_ms: mostly(fc.integer()),
      edit_count: mostly(fc.nat()),
      locked_paths: mostly(fc.dictionary(lockPath, mostly(fc.integer({ min: -(2 ** 40), max: 2 ** 40 })), { maxKeys: 5 })),
    }),
    fc.constantFrom('none', 'none', 'none', 'unknown member', 'integer-like member', 'missing member'),
    value,
  )
  .map(([record, twist, extra]): Record<string, unknown> => {
    if (twist === 'unknown member') return { ...record, color: extra };
    if (twist === 'integer-like member') return { ...record, '7': extra };
    if (twist === 'missing member') return { id: record.id, name: record.name, state: record.state, last_seen_ms: record.last_seen_ms, locked_paths: record.locked_paths };
    return record;
  });
const stateFile = fc.record(
  {
    next_id: mostly(fc.nat({ max: 10 })),
    agents: mostly(fc.array(agentRecord, { maxLength: 5 })),
    harn: fc.record(
      {
        reasons: fc.dictionary(fc.constantFrom('0', '1', '2', '3'), fc.dictionary(lockPath, mostly(fc.string({ maxLength: 4 })), { maxKeys: 3 })),
        agents: fc.dictionary(fc.constantFrom('0', '1', '2'), fc.record({ timeout_ms: fc.integer({ min: 1, max: 10 ** 6 }), branch: fc.string({ maxLength: 4 }) }, { requiredKeys: [] })),
        settings: fc.record({ agent_timeout_ms: fc.integer({ min: 1, max: 10 ** 6 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    extra: value,
  },
  { requiredKeys: ['agents'] },
);

/** The file as text: compact, pretty, or with a repeated key, an extra lock or a \u003a escape in it. */
function render(file: Record<string, unknown>, twist: number): string {
  const text = JSON.stringify(file);
  if (twist === 1) return text.replace(/\{"id":(\d+),"name"/, '{"name":"dup","id":$1,"name"');
  if (twist === 2) return text.replace(/"name":"/, '"name":"\\u003a');
  if (twist === 3) return text.replace(/"locked_paths":\{"/, '"locked_paths":{"a":1,"');
  if (twist === 4) return JSON.stringify(file, null, 2);
  return text;
}

describe('the codec: the fast path against the checked decoding (fast-check)', () => {
  it('accepts exactly what decodeChecked accepts, with the same snapshot and encoding, or fails with its message', () => {
    let fastPath = 0;
    fc.assert(
      fc.property(stateFile, fc.integer({ min: 0, max: 5 }), (file, twist) => {
        const text = render(file, twist);
        const fast = outcome(() => {
          const snapshot = decodeSnapshot(text);
          if (snapshot.agents.length > 0 && snapshot.agents.every((agent) => agent.lockedPaths instanceof SourcedLockMap)) fastPath++;
          return snapshot;
        });
        const checked = outcome(() => decodeChecked(text, JSON.parse(text)));
        expect(fast).toEqual(checked);
      }),
      { numRuns: 1_000 },
    );
    // The generator reaches the fast path often enough for the comparison to mean something.
    expect(fastPath).toBeGreaterThan(50);
  });

  it('takes the fast path for what the registry writes, and encodes unchanged agents byte for byte', () => {
    const reg = new AgentRegistry({ agentTimeoutMs: 60_000 });
    for (let i = 0; i < 5; i++) reg.lockAll(reg.register(`a:${i}`, 1_000), [`src/${i}.ts`, `d${i}/`], 10_000, 1_000, i % 2 ? 'why' : undefined);
    // An integer-like path comes first once read back (JSON.parse's key order), on either path.
    reg.lockAll(1, ['5'], 10_000, 1_000);
    const text = encodeSnapshot(reg.snapshot());
    const snapshot = decodeSnapshot(text);
    expect(snapshot.agents.every((agent) => agent.lockedPaths instanceof SourcedLockMap)).toBe(true);
    expect(encodeSnapshot(snapshot)).toBe(encodeSnapshot(decodeChecked(text, JSON.parse(text))));
    const again = encodeSnapshot(snapshot);
    expect(encodeSnapshot(decodeSnapshot(again))).toBe(again);
    // A change to one agent re-encodes that agent member by member, the others still natively: same bytes as eager.
    const lazy = AgentRegistry.fromSnapshot({}, snapshot);
    const eager = AgentRegistry.fromSnapshot({}, decodeChecked(text, JSON.parse(text)));
    for (const r of [lazy, eager]) {
      r.lockAll(3, ['src/new.ts'], 5_000, 2_000);
      r.noteEdit(4, 2_500);
      r.releaseLock(1, '5');
      r.releaseLock(2, 'src/1.ts');
    }
    expect(encodeSnapshot(lazy.snapshot())).toBe(encodeSnapshot(eager.snapshot()));
  });
});

describe('SourcedLockMap iterators and keys as a Map has them (review of the lazy maps)', () => {
  it('an iterator taken before a clear() sees what a Map iterator sees: the entries set after it, not the old ones', () => {
    const text = '{"a":1,"b":2}';
    const lazy = new SourcedLockMap(JSON.parse(text) as Record<string, number>);
    const eager = new Map(Object.entries(JSON.parse(text) as Record<string, number>));
    const seen = [lazy, eager].map((map) => {
      const keys = map.keys();
      const first = keys.next().value;
      map.clear();
      map.set('c', 3);
      return [first, ...keys];
    });
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[1]).toEqual(['a', 'c']);
  });

  it('live iterators interleaved with changes give a Map iterator\'s answers (fast-check)', () => {
    type Step = MapOp | { kind: 'open' } | { kind: 'step'; which: number };
    const step: fc.Arbitrary<Step> = fc.oneof(mapOp, fc.constant({ kind: 'open' as const }), fc.record({ kind: fc.constant('step' as const), which: fc.nat(3) }));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), fc.integer()), fc.array(step, { maxLength: 30 }), (entries, steps) => {
        const text = JSON.stringify(entries);
        const maps = [new SourcedLockMap(JSON.parse(text) as Record<string, number>), new Map(Object.entries(JSON.parse(text) as Record<string, number>))];
        const iterators: Array<Array<Iterator<[string, number]>>> = [[], []];
        for (const s of steps) {
          const answers = maps.map((map, m) => {
            if (s.kind === 'open') return iterators[m]?.push(map.entries());
            if (s.kind === 'step') return iterators[m]?.[s.which]?.next() ?? null;
            return answer(map, s);
          });
          expect(answers[0], s.kind).toEqual(answers[1]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a key that is not a string is in no lazy map, built or not, as in a Map of strings', () => {
    const lazy = new SourcedLockMap(JSON.parse('{"5":1,"undefined":2}') as Record<string, number>) as Map<unknown, number>;
    const eager = new Map<unknown, number>(Object.entries(JSON.parse('{"5":1,"undefined":2}') as Record<string, number>));
    for (const map of [lazy, eager]) {
      expect([map.get(5), map.has(5), map.get(undefined), map.has(undefined), map.delete(5)]).toEqual([undefined, false, undefined, false, false]);
    }
    // Asking with a wrong key changed nothing: the agent is still encoded from its parsed record.
    expect((lazy as SourcedLockMap).unchanged).toBe(true);
  });
});
