import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHarnError } from '../../src/core/errors.js';
import { AgentRegistry, DEFAULT_CONFIG, IdSpaceExhaustedError } from '../../src/core/registry.js';
import { MAX_CHOSEN_ID } from '../../src/core/validate.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/store/codec.js';

const MAX = Number.MAX_SAFE_INTEGER;
const exitCodeOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return isHarnError(error) ? error.exitCode : error;
  }
  return 'no error';
};

describe('the id rule: a call chooses ids only up to 2^32-1, so no valid call exhausts registration', () => {
  it('registerWithId takes 2^32-1 and refuses 2^32 and 2^53-2 as bad input', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    expect(reg.registerWithId(MAX_CHOSEN_ID, 'top', 0)).toBe(2 ** 32 - 1);
    expect(reg.nextId).toBe(2 ** 32);
    expect(exitCodeOf(() => reg.registerWithId(2 ** 32, 'x', 0))).toBe(2);
    expect(exitCodeOf(() => reg.registerWithId(MAX - 1, 'x', 0))).toBe(2);
    expect(reg.nextId).toBe(2 ** 32);
    expect(reg.register('next', 0)).toBe(2 ** 32);
  });

  it('a heartbeat or lock for an unknown id above the range is refused; known large ids (another writer\'s) still work', () => {
    const seed = decodeSnapshot(
      `{"next_id":${2 ** 40 + 1},"agents":[{"id":${2 ** 40},"name":"rust","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{}}]}`,
    );
    const reg = new AgentRegistry(DEFAULT_CONFIG, seed);
    expect(exitCodeOf(() => reg.heartbeat(2 ** 41, 0))).toBe(2);
    expect(exitCodeOf(() => reg.lockAll(2 ** 41, ['a'], 1_000, 0))).toBe(2);
    expect(reg.get(2 ** 41)).toBeUndefined();
    expect(reg.heartbeat(2 ** 40, 5).lastSeenMs).toBe(5);
    expect(reg.lockAll(2 ** 40, ['a'], 1_000, 5).granted).toBe(true);
    expect(reg.register('new', 5)).toBe(2 ** 40 + 1);
  });

  it('a next_id at 2^53-1 written by another tool says how to recover', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG, { nextId: MAX, agents: [], extra: [] });
    expect(() => reg.register('a', 0)).toThrow(IdSpaceExhaustedError);
    expect(() => reg.register('a', 0)).toThrow(/next_id is 9007199254740991 .*run `harn-agents doctor --fix-ids`/);
  });
});

describe('timestamps stay encodable', () => {
  it('an expiry saturates at 2^53-1 when the registry time is near it', () => {
    const reg = new AgentRegistry(DEFAULT_CONFIG);
    const id = reg.register('a', MAX - 10);
    const outcome = reg.lockAll(id, ['a.ts'], 30_000, MAX - 10);
    expect(outcome).toMatchObject({ granted: true, expiresMs: MAX });
    expect(decodeSnapshot(encodeSnapshot(reg.snapshot())).agents[0]?.lockedPaths.get('a.ts')).toBe(MAX);
  });

  it('no sequence of valid calls produces a snapshot the encoder refuses', () => {
    const id = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(MAX_CHOSEN_ID - 1, MAX_CHOSEN_ID));
    const time = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(MAX - 1, MAX), fc.integer({ min: MAX - 400_000_000_000, max: MAX }));
    const ttl = fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 315_576_000_000 }));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('register' as const), now: time }),
      fc.record({ kind: fc.constant('registerWithId' as const), id, now: time }),
      fc.record({ kind: fc.constant('heartbeat' as const), id, now: time }),
      fc.record({ kind: fc.constant('noteEdit' as const), id, now: time }),
      fc.record({ kind: fc.constant('lock' as const), id, now: time, ttl }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const reg = new AgentRegistry(DEFAULT_CONFIG);
        for (const o of ops) {
          if (o.kind === 'register') reg.register('r', o.now);
          else if (o.kind === 'registerWithId') reg.registerWithId(o.id, 'w', o.now);
          else if (o.kind === 'heartbeat') reg.heartbeat(o.id, o.now);
          else if (o.kind === 'noteEdit') reg.noteEdit(o.id, o.now);
          else reg.lockAll(o.id, ['a', 'd/'], o.ttl, o.now);
        }
        const text = encodeSnapshot(reg.snapshot());
        expect(encodeSnapshot(decodeSnapshot(text))).toBe(text);
        expect(reg.nextId).toBeLessThanOrEqual(2 ** 32 + ops.length);
      }),
      { numRuns: 300 },
    );
  });
});
