import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentRegistry, type RegistryConfig } from '../../src/core/registry.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/store/codec.js';
import { forEachLock, SourcedLockMap } from '../../src/core/lock-map.js';

const TTL_MS = 3_000;
const TIMEOUT_MS = 5_000;
// Every agent is created by a registry with this config, so each records the 5 s timeout as its own.
const CONFIG: RegistryConfig = { defaultLockTtlMs: TTL_MS, agentTimeoutMs: TIMEOUT_MS };
// Files, a directory lock and paths under and beside it, and prototype-named keys.
const PATHS = ['a', 'b', 'd/', 'd/x', 'd/e/', 'd', 'dx', '__proto__', 'constructor'];

type Op =
  | { kind: 'tick'; ms: number }
  | { kind: 'register' }
  | { kind: 'registerWithId'; id: number }
  | { kind: 'heartbeat'; id: number }
  | { kind: 'unregister'; id: number }
  | { kind: 'noteEdit'; id: number }
  | { kind: 'lock'; id: number; paths: string[]; ttl: number | undefined }
  | { kind: 'release'; id: number; path: string }
  | { kind: 'reap' }
  // Save and read back: the agents' lock maps are then the codec's lazy ones (read from the parsed file).
  | { kind: 'reload' };

const agentId = fc.integer({ min: 0, max: 12 });
const op: fc.Arbitrary<Op> = fc.oneof(
  // Steps that land exactly on TTL and timeout boundaries, plus arbitrary ones.
  fc.record({ kind: fc.constant('tick' as const), ms: fc.oneof(fc.constantFrom(0, 1, 1_000, 2_999, 3_000, 5_000, 5_001), fc.integer({ min: 0, max: 7_000 })) }),
  fc.record({ kind: fc.constant('register' as const) }),
  fc.record({ kind: fc.constant('registerWithId' as const), id: agentId }),
  fc.record({ kind: fc.constant('heartbeat' as const), id: agentId }),
  fc.record({ kind: fc.constant('unregister' as const), id: agentId }),
  fc.record({ kind: fc.constant('noteEdit' as const), id: agentId }),
  fc.record({
    kind: fc.constant('lock' as const),
    id: agentId,
    paths: fc.uniqueArray(fc.constantFrom(...PATHS), { minLength: 1, maxLength: 3 }),
    ttl: fc.option(fc.oneof(fc.constantFrom(1, 1_000, 3_000), fc.integer({ min: 1, max: 8_000 })), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('release' as const), id: agentId, path: fc.constantFrom(...PATHS) }),
  fc.record({ kind: fc.constant('reap' as const) }),
  fc.record({ kind: fc.constant('reload' as const) }),
);

/** A deliberately naive model: a list of agents, scanned in full for every question. */
interface ModelAgent {
  id: number;
  state: string;
  lastSeen: number;
  edits: number;
  locks: Array<[string, number]>;
}

class Model {
  agents: ModelAgent[] = [];
  nextId = 1;
  find(id: number): ModelAgent | undefined {
    return this.agents.find((a) => a.id === id);
  }
  reap(now: number): void {
    for (const a of this.agents) {
      if (a.state === 'active' && now - a.lastSeen > TIMEOUT_MS) {
        a.state = 'crashed';
        a.locks = [];
      }
    }
  }
  put(id: number, now: number): void {
    this.agents = this.agents.filter((a) => a.id !== id);
    this.agents.push({ id, state: 'active', lastSeen: now, edits: 0, locks: [] });
    this.nextId = Math.max(this.nextId, id + 1);
  }
  /** Agents holding a live lock that overlaps `path` (the same path, a directory over it, or under it). */
  liveHolders(path: string, now: number): number[] {
    return this.agents.filter((a) => a.locks.some(([p, e]) => e > now && overlaps(p, path))).map((a) => a.id);
  }
  lock(id: number, paths: string[], ttl: number | undefined, now: number): boolean {
    this.reap(now);
    if (paths.some((p) => this.liveHolders(p, now).some((h) => h !== id))) return false;
    if (!this.find(id)) this.put(id, now);
    const agent = this.find(id) as ModelAgent;
    for (const p of paths) {
      agent.locks = agent.locks.filter(([q]) => q !== p);
      agent.locks.push([p, now + (ttl ?? TTL_MS)]);
    }
    agent.lastSeen = now;
    agent.state = 'active';
    return true;
  }
}

/** Naive overlap: compare the sets of file paths each lock covers, among the paths the test uses. */
function overlaps(a: string, b: string): boolean {
  const covers = (lock: string, path: string) => lock === path || (lock.endsWith('/') && (path.startsWith(lock) || path === lock.slice(0, -1)));
  return covers(a, b) || covers(b, a) || PATHS.some((p) => !p.endsWith('/') && covers(a, p) && covers(b, p));
}

/** A lock map's entries, without building a lazy one (so what follows still reads the parsed file). */
function lockList(locks: ReadonlyMap<string, number>): Array<[string, number]> {
  const list: Array<[string, number]> = [];
  forEachLock(locks, (path, expiry) => list.push([path, expiry]));
  return list;
}

function view(reg: AgentRegistry): ModelAgent[] {
  return [...reg.agents()]
    .map((a) => ({ id: a.id, state: a.state, lastSeen: a.lastSeenMs, edits: a.editCount, locks: lockList(a.lockedPaths).sort() }))
    .sort((x, y) => x.id - y.id);
}

function modelView(model: Model): ModelAgent[] {
  return model.agents.map((a) => ({ ...a, locks: [...a.locks].sort() })).sort((x, y) => x.id - y.id);
}

describe('the registry against a naive model (fast-check)', () => {
  it('agrees with the model, keeps at most one live holder per path, and never reuses an id', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let reg = new AgentRegistry(CONFIG);
        const model = new Model();
        const issued: number[] = [];
        let now = 0;
        for (const o of ops) {
          switch (o.kind) {
            case 'tick':
              now += o.ms;
              break;
            case 'register': {
              const id = reg.register('x', now);
              expect(id).toBe(model.nextId);
              expect(issued).not.toContain(id);
              issued.push(id);
              model.put(id, now);
              break;
            }
            case 'registerWithId':
              reg.registerWithId(o.id, 'x', now);
              model.put(o.id, now);
              break;
            case 'heartbeat': {
              reg.heartbeat(o.id, now);
              const a = model.find(o.id);
              if (!a) model.put(o.id, now);
              else {
                a.lastSeen = now;
                if (a.state === 'crashed') a.state = 'active';
              }
              break;
            }
            case 'unregister':
              reg.unregister(o.id);
              model.agents = model.agents.filter((a) => a.id !== o.id);
              break;
            case 'noteEdit': {
              const a = model.find(o.id);
              expect(reg.noteEdit(o.id, now)).toBe(a !== undefined);
              if (a) {
                a.edits += 1;
                a.lastSeen = now;
              }
              break;
            }
            case 'lock':
              expect(reg.lockAll(o.id, o.paths, o.ttl, now).granted).toBe(model.lock(o.id, o.paths, o.ttl, now));
              break;
            case 'release': {
              reg.releaseLock(o.id, o.path);
              const a = model.find(o.id);
              if (a) a.locks = a.locks.filter(([p]) => p !== o.path);
              break;
            }
            case 'reap':
              reg.reap(now);
              model.reap(now);
              break;
            case 'reload': {
              const text = encodeSnapshot(reg.snapshot());
              reg = AgentRegistry.fromSnapshot(CONFIG, decodeSnapshot(text));
              for (const agent of reg.agents()) expect(agent.lockedPaths).toBeInstanceOf(SourcedLockMap);
              expect(encodeSnapshot(reg.snapshot())).toBe(text);
              break;
            }
          }
          expect(view(reg)).toEqual(modelView(model));
          // No two agents hold overlapping live locks (one live holder per path, directories included).
          const live = model.agents.flatMap((a) => a.locks.filter(([, e]) => e > now).map(([p]) => [a.id, p] as const));
          for (const [i, [idA, pA]] of live.entries()) {
            for (const [idB, pB] of live.slice(i + 1)) if (idA !== idB) expect(overlaps(pA, pB), `${idA}:${pA} vs ${idB}:${pB}`).toBe(false);
          }
          for (const path of PATHS) {
            // The registry names a holder exactly when some live lock overlaps the path, and one that does.
            const holders = model.liveHolders(path, now);
            const holder = reg.holderOf(path, now);
            if (holders.length === 0) expect(holder).toBeUndefined();
            else expect(holders).toContain(holder?.agent.id);
            if (!path.endsWith('/')) expect(holders.length).toBeLessThanOrEqual(1);
          }
          expect(reg.nextId).toBeGreaterThan(Math.max(0, ...[...reg.agents()].map((a) => a.id)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reap is idempotent', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 0, max: 100_000 }), (ops, at) => {
        const reg = new AgentRegistry(CONFIG);
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'tick') now += o.ms;
          else if (o.kind === 'register') reg.register('x', now);
          else if (o.kind === 'lock') reg.lockAll(o.id, o.paths, o.ttl, now);
        }
        reg.reap(now + at);
        const once = encodeSnapshot(reg.snapshot());
        expect(reg.reap(now + at)).toEqual([]);
        expect(encodeSnapshot(reg.snapshot())).toBe(once);
      }),
      { numRuns: 200 },
    );
  });

  it('snapshot -> encode -> decode -> restore is lossless, for any names and paths', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.string({ unit: 'binary', maxLength: 20 }),
            paths: fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), { maxLength: 4 }),
            at: fc.integer({ min: -1e12, max: 1e13 }),
            edits: fc.nat({ max: 50 }),
          }),
          { maxLength: 12 },
        ),
        (agents) => {
          const reg = new AgentRegistry(CONFIG);
          for (const a of agents) {
            const id = reg.register(a.name, a.at);
            for (let i = 0; i < a.edits; i++) reg.noteEdit(id, a.at);
            for (const p of a.paths) reg.tryLock(id, p, 1_000, a.at);
          }
          const text = encodeSnapshot(reg.snapshot());
          const restored = AgentRegistry.fromSnapshot(CONFIG, decodeSnapshot(text));
          expect(encodeSnapshot(restored.snapshot())).toBe(text);
          expect(view(restored)).toEqual(view(reg));
          expect(restored.nextId).toBe(reg.nextId);
        },
      ),
      { numRuns: 300 },
    );
  });
});
