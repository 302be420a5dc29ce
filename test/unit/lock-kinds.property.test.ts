import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overlap } from '../../src/core/glob.js';
import { AgentRegistry, type LockTerms, type RegistryConfig } from '../../src/core/registry.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/store/codec.js';
import { isHarnError } from '../../src/core/errors.js';
import { gitGlobMatches } from '../helpers/wildmatch-model.js';

const CONFIG: RegistryConfig = { defaultLockTtlMs: 3_000, agentTimeoutMs: 5_000 };
// Paths, directories, patterns and resources; and names enough that every two of these keys that can cover a
// common name cover one of these (checked below against core/glob's exact overlap).
const KEYS = ['a', 'd/', 'd/x', 'd/e/', 'd/x.t', 'd/*.t', 'd/**', '**/x', '*.t', 'd/[xy]', 'd/e/*', '@r', '@s'];
const NAMES = ['a', 'd', 'd/x', 'd/x.t', 'd/e', 'd/e/x', 'd/e/y.t', 'x', 'y.t', 'd/y', 'a.t', '@r', '@s'];

/** The model's coverage: by the wildmatch port for patterns, by prefix for directories, else equality. */
function covers(key: string, name: string): boolean {
  if (key.startsWith('@') || name.startsWith('@')) return key === name;
  if (/[*?[]/.test(key)) return gitGlobMatches(key, name);
  if (key.endsWith('/')) return name === key.slice(0, -1) || name.startsWith(key);
  return key === name;
}
const overlaps = (a: string, b: string) => NAMES.some((n) => covers(a, n) && covers(b, n));

type Op =
  | { kind: 'tick'; ms: number }
  | { kind: 'lock'; id: number; keys: string[]; shared: boolean; slots: number; ttl: number }
  | { kind: 'release'; id: number; key: string }
  | { kind: 'reload' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(0, 1, 1_000, 2_999, 3_000, 4_000) }),
  fc.record({
    kind: fc.constant('lock' as const),
    id: fc.integer({ min: 1, max: 4 }),
    keys: fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 2 }),
    shared: fc.boolean(),
    slots: fc.constantFrom(1, 2, 3),
    ttl: fc.constantFrom(1_000, 3_000, 20_000),
  }),
  fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 1, max: 4 }), key: fc.constantFrom(...KEYS) }),
  fc.record({ kind: fc.constant('reload' as const) }),
);

interface Held {
  id: number;
  key: string;
  expiry: number;
  shared: boolean;
  slots: number;
}

class Model {
  held: Held[] = [];
  live(now: number): Held[] {
    return this.held.filter((h) => h.expiry > now);
  }
  /** 'mismatch' (exit 2), or whether the lock is granted. */
  lock(id: number, keys: string[], shared: boolean, slots: number, ttl: number, now: number): 'mismatch' | boolean {
    const others = this.live(now).filter((h) => h.id !== id);
    for (const key of keys) if (key.startsWith('@') && others.some((h) => h.key === key && h.slots !== slots)) return 'mismatch';
    for (const key of keys) {
      if (key.startsWith('@')) {
        if (others.filter((h) => h.key === key).length >= slots) return false;
      } else if (others.some((h) => overlaps(h.key, key) && !(shared && h.shared))) return false;
    }
    for (const key of keys) {
      this.held = this.held.filter((h) => !(h.id === id && h.key === key));
      this.held.push({ id, key, expiry: now + ttl, shared: shared && !key.startsWith('@'), slots: key.startsWith('@') ? slots : 1 });
    }
    return true;
  }
}

describe('shared locks, slots and patterns against a brute-force model (fast-check)', () => {
  it('the fixture: two keys overlap on one of NAMES exactly when core/glob says they overlap', () => {
    for (const a of KEYS) for (const b of KEYS) expect(overlap(a, b).overlap, `${a} / ${b}`).toBe(overlaps(a, b));
  });

  it('grants, refuses and names holders as the model does; never more holders than allowed', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let reg = new AgentRegistry(CONFIG);
        const model = new Model();
        let now = 0;
        for (const id of [1, 2, 3, 4]) reg.registerWithId(id, `agent-${id}`, 0);
        for (const o of ops) {
          if (o.kind === 'tick') {
            now += o.ms;
            // Heartbeat everyone: this model is about locks, not reaping.
            for (const id of [1, 2, 3, 4]) reg.heartbeat(id, now);
          } else if (o.kind === 'lock') {
            const resource = o.keys.some((k) => k.startsWith('@'));
            const path = o.keys.some((k) => !k.startsWith('@'));
            // One call's terms: shared only for paths, slots only for resources (the commands refuse mixing).
            if (resource && path) continue;
            const terms: LockTerms = resource ? (o.slots === 1 ? {} : { slots: o.slots }) : o.shared ? { mode: 'shared' } : {};
            const expected = model.lock(o.id, o.keys, !resource && o.shared, resource ? o.slots : 1, o.ttl, now);
            let got: 'mismatch' | boolean;
            try {
              got = reg.lockAll(o.id, o.keys, o.ttl, now, undefined, terms).granted;
            } catch (error) {
              if (!isHarnError(error) || error.exitCode !== 2) throw error;
              got = 'mismatch';
            }
            expect(got, JSON.stringify(o)).toBe(expected);
          } else if (o.kind === 'release') {
            reg.releaseLock(o.id, o.key);
            model.held = model.held.filter((h) => !(h.id === o.id && h.key === o.key));
          } else {
            reg = AgentRegistry.fromSnapshot(CONFIG, decodeSnapshot(encodeSnapshot(reg.snapshot())));
          }
          const live = model.live(now);
          // No two agents hold overlapping locks unless both are shared; a resource never has more holders than slots.
          for (const x of live) {
            for (const y of live) if (x.id !== y.id && !x.key.startsWith('@') && overlaps(x.key, y.key)) expect(x.shared && y.shared).toBe(true);
            if (x.key.startsWith('@')) expect(live.filter((h) => h.key === x.key).length).toBeLessThanOrEqual(x.slots);
          }
          // Every key and name: the registry's holders are exactly the model's live overlapping locks.
          for (const q of [...KEYS, ...NAMES]) {
            const want = live.filter((h) => (q.startsWith('@') ? h.key === q : overlaps(h.key, q))).map((h) => `${h.id}:${h.key}:${h.shared ? 'shared' : 'exclusive'}`).sort();
            const got = reg.holdersOf(q, now).map((h) => `${h.agent.id}:${h.path}:${h.mode}`).sort();
            expect(got, q).toEqual(want);
          }
        }
      }),
      { numRuns: Number(process.env.HARN_FUZZ_RUNS ?? 200) },
    );
  });
});
