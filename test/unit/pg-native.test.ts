import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentRegistry, type LockTerms, type ReadonlyAgent } from '../../src/core/registry.js';
import { decodeSnapshot } from '../../src/store/codec.js';
import { runNative } from '../../src/store/pg-native.js';
import { loadSlice, type Sql } from '../../src/store/pg-rows.js';
import { inProcessCli } from '../helpers/in-process.js';

// The PostgreSQL server runs lock, release and heartbeat itself in their plain case (src/store/pg-native.ts)
// and declines the rest to the registry. Whatever it does must be what the pure registry does: each case
// here builds a random registry on the real server (holders of paths, directories, patterns, shared locks,
// resources with slots, expired locks, agents due for reaping), exports it, runs one operation, and replays
// that operation on the pure registry from the export at the answer's own time. The answers and the states
// after must agree, and both ways (native and declined) must have been taken many times.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;

/** A small seeded generator (mulberry32), so a failure is the same failure on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T, chance: (p: number) => next() < p };
}

const HELD_KEYS = ['src/a.ts', 'src/', 'src/b/', 'src/b/c.ts', 'src/a.ts/', 'src', 'docs/x.md', 'src/*.ts', 'src/**', '@gpu', '@db'];
const ASKED_KEYS = ['src/a.ts', 'src/b/c.ts', 'src/b/', 'src/', 'docs/x.md', 'docs/y.md', 'src', 'lib/z.ts', '@gpu', '@db', 'src/*.ts'];

/** An agent's state and locks, in an order both stores agree on. */
function canonical(agents: Iterable<ReadonlyAgent>) {
  return [...agents]
    .map((a) => ({
      id: a.id,
      state: a.state,
      last_seen_ms: a.lastSeenMs,
      locks: [...a.lockedPaths]
        .map(([path, expiry]) => [path, expiry, a.lockReasons.get(path) ?? null, a.lockTerms?.get(path)?.mode ?? null, a.lockTerms?.get(path)?.slots ?? null])
        .sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    }))
    .sort((x, y) => x.id - y.id);
}

describe.skipIf(!PG_URL)('the PostgreSQL server running operations itself', () => {
  let debug: string[] = [];
  const db = new pg.Client({ connectionString: PG_URL });
  beforeAll(() => db.connect());
  afterAll(() => db.end());
  beforeEach(() => {
    debug = [];
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.startsWith('harn-agents: debug: ')) {
        debug.push(text);
        return true;
      }
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it('does what the pure registry does, or declines', async () => {
    // A fixed seed keeps `npm test` deterministic; HARN_FUZZ_SEED (a number, or `random`) explores others
    // (`npm run stress` runs it on a random one); every failure names its seed.
    const seed = process.env.HARN_FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.HARN_FUZZ_SEED ?? 20261205);
    const rng = random(seed);
    let native = 0;
    let declined = 0;
    let dueAtOperation = 0;
    for (let n = 0; n < 90; n++) {
      const namespace = `native-${process.pid}-${Date.now()}-${n}`;
      const cli = inProcessCli();
      const g = ['--store', PG_URL ?? '', '--namespace', namespace];
      const run = (args: string[], env: Record<string, string> = {}) => cli.run([...g, ...args], env);
      for (const name of ['asker', 'b', 'c']) expect((await run(['register', name])).code).toBe(0);
      // Agent 4 falls due for reaping a moment after it last acts, in some cases.
      const shortLived = rng.chance(0.4);
      expect((await run(['register', 'd', ...(shortLived ? ['--timeout', '1ms'] : [])])).code).toBe(0);
      // The asker's own lock: renewed (with or without a reason), released or kept.
      const own = rng.pick(ASKED_KEYS.filter((k) => !k.startsWith('@') && !k.includes('*')));
      if (rng.chance(0.6)) await run(['lock', own, '--agent', '1', ...(rng.chance(0.5) ? ['--reason', 'mine'] : [])]);
      for (let h = 0; h < 1 + Math.floor(rng.next() * 3); h++) {
        const key = rng.pick(HELD_KEYS);
        const terms = key.startsWith('@') ? (rng.chance(0.5) ? ['--slots', '2'] : []) : rng.chance(0.4) ? ['--shared'] : [];
        // Some locks lapse before the operation (1 ms), most outlast it.
        await run(['lock', key, '--agent', String(2 + Math.floor(rng.next() * 3)), '--ttl', rng.chance(0.2) ? '1ms' : '1h', ...terms]);
      }
      const exported = await run(['export']);
      expect(exported.code).toBe(0);
      // The export reaped whoever was due; a short-lived agent that locks now is due again at the operation.
      const lateKey = shortLived && rng.chance(0.6) ? rng.pick(HELD_KEYS.filter((k) => !k.startsWith('@'))) : null;
      const late = lateKey ? await cli.run([...g, '--json', 'lock', lateKey, '--agent', '4', '--ttl', '1h']) : null;

      const op = rng.pick(['lock', 'lock', 'lock', 'release', 'heartbeat'] as const);
      const asked = [...new Set([rng.chance(0.3) ? own : rng.pick(ASKED_KEYS), ...(rng.chance(0.3) ? [rng.pick(ASKED_KEYS)] : [])])];
      const resources = asked.filter((k) => k.startsWith('@'));
      const shared = resources.length === 0 && rng.chance(0.3);
      const slots = resources.length === asked.length && rng.chance(0.3) ? 2 : undefined;
      const reason = rng.chance(0.4) ? 'why' : undefined;
      const args =
        op === 'lock'
          ? ['lock', ...asked, '--agent', '1', '--ttl', '10m', ...(shared ? ['--shared'] : []), ...(slots ? ['--slots', String(slots)] : []), ...(reason ? ['--reason', reason] : [])]
          : op === 'release'
            ? ['release', ...asked, '--agent', '1']
            : ['heartbeat', '1'];
      debug = [];
      const answer = await cli.run([...g, '--json', ...args], { HARN_DEBUG: '1' });
      const way = debug.find((line) => line.includes('natively'));
      if (way?.includes('done')) native++;
      else declined++;
      if (late) dueAtOperation++;
      // The rows as the operation left them (an export would reap first, and hide a reap the operation skipped).
      const rows = await db.query<{ id: string; state: string; last_seen_ms: string; locks: Array<[string, number, string | null, string | null, number | null]> | null }>(
        `SELECT a.id, a.state, a.last_seen_ms, (SELECT json_agg(json_build_array(l.path, l.expires_ms, l.reason, l.mode, l.slots) ORDER BY l.path COLLATE "C")
           FROM harn_locks l WHERE l.namespace = a.namespace AND l.agent_id = a.id) AS locks
         FROM harn_agents a WHERE a.namespace = $1 ORDER BY a.id`,
        [namespace],
      );
      const stored = rows.rows.map((r) => ({ id: Number(r.id), state: r.state, last_seen_ms: Number(r.last_seen_ms), locks: r.locks ?? [] }));

      // The pure registry, from the state before, at the answer's time.
      const registry = AgentRegistry.fromSnapshot({}, decodeSnapshot(exported.stdout));
      if (late && lateKey) {
        const lateResult = JSON.parse(late.stdout);
        registry.reap(lateResult.now_ms);
        expect(registry.lockAll(4, [lateKey], 3_600_000, lateResult.now_ms).granted).toBe(lateResult.granted);
      }
      const result = answer.code === 2 ? null : JSON.parse(answer.stdout);
      const nowMs: number = result?.now_ms ?? result?.last_seen_ms;
      const context = `seed ${seed}, case ${n}: ${args.join(' ')} (${way?.trim() ?? 'no native try'})\nbefore: ${exported.stdout}`;
      if (result === null) {
        // A usage error (a resource asked with other slots than its holders'): the registry says the same.
        expect(() => registry.lockAll(1, asked, 600_000, Date.now(), reason, slots ? { slots } : {}), context).toThrow();
        expect(way, context).not.toContain('done');
        continue;
      }
      registry.reap(nowMs);
      if (op === 'lock') {
        const terms: LockTerms = shared ? { mode: 'shared' } : slots ? { slots } : {};
        const expected = registry.lockAll(1, asked, 600_000, nowMs, reason, terms);
        expect(result.granted, context).toBe(expected.granted);
        if (!expected.granted) {
          const conflicts = (result.conflicts as Array<{ path: string; holders: Array<{ path: string; agent: { id: number } }> }>)
            .flatMap((c) => c.holders.map((h) => `${c.path} ${h.path} ${h.agent.id}`))
            .sort();
          expect(conflicts, context).toEqual(expected.conflicts.map((c) => `${c.path} ${c.heldPath} ${c.holder.id}`).sort());
        }
      } else if (op === 'release') {
        const released = asked.filter((path) => registry.releaseLock(1, path));
        expect(result.released, context).toEqual(released);
      } else {
        registry.heartbeat(1, nowMs);
        expect(result.state, context).toBe('active');
      }
      expect(stored, context).toEqual(canonical(registry.agents()));
    }
    // Both ways, many times each: a case mix that never reaches one of them tests nothing of it.
    expect(native).toBeGreaterThanOrEqual(15);
    expect(declined).toBeGreaterThanOrEqual(15);
    expect(dueAtOperation).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('keeps to index lookups whatever the statistics: on an analysed namespace of 3,000 agents, no statement scans a table', async () => {
    const namespace = `native-plans-${process.pid}-${Date.now()}`;
    const cli = inProcessCli();
    const g = ['--store', PG_URL ?? '', '--namespace', namespace];
    // 3,000 agents holding 3 locks each, imported; then statistics as a busy database has them.
    const now = Date.now();
    const agents = Array.from({ length: 3_000 }, (_, i) => {
      const locks = [0, 1, 2].map((k) => `"src/pkg-${i}/m${k}.ts":${now + 86_400_000}`).join(',');
      return `{"id":${i + 1},"name":"a${i + 1}","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{${locks}}}`;
    });
    const file = `${cli.ws}/seed.json`;
    (await import('node:fs')).writeFileSync(file, `{"next_id":3001,"agents":[${agents.join(',')}]}\n`);
    expect((await cli.run([...g, 'import', file])).code).toBe(0);
    expect((await cli.run([...g, 'config', 'set', 'agent-timeout', '1d'])).code).toBe(0);
    expect((await cli.run([...g, 'register', 'mine', '--timeout', '1h'])).stdout).toBe('3001\n');
    await db.query('ANALYZE harn_namespaces, harn_agents, harn_locks');

    // Every statement the server runs, with its plan (auto_explain, in this session only).
    const session = new pg.Client({ connectionString: PG_URL });
    await session.connect();
    const plans: string[] = [];
    session.on('notice', (notice) => plans.push(notice.message ?? ''));
    try {
      await session.query("LOAD 'auto_explain'");
      await session.query('SET auto_explain.log_min_duration = 0');
      await session.query('SET auto_explain.log_nested_statements = on');
      await session.query('SET client_min_messages = log');
      const sql: Sql = async (text, values) => {
        const r = await session.query({ text, values: values as unknown[] });
        return { rows: r.rows, rowCount: r.rowCount };
      };
      // Past the five runs after which a cached plan may become a generic one.
      for (let k = 0; k < 8; k++) {
        const paths = [`work/${k % 2}.ts`];
        expect(await runNative(sql, namespace, {}, { op: 'lock', agent: 3001, paths, ttlMs: 60_000, reason: undefined, terms: {} })).not.toBeNull();
        expect(await runNative(sql, namespace, {}, { op: 'heartbeat', agent: 3001 })).not.toBeNull();
        expect(await runNative(sql, namespace, {}, { op: 'release', agent: 3001, paths })).not.toBeNull();
        await loadSlice(sql, namespace, {}, { agents: [3001], paths: ['src/pkg-7/', 'src/pkg-8/m1.ts'], lockNextId: false }, false);
      }
    } finally {
      await session.end();
    }
    expect(plans.filter((p) => p.includes('plan:')).length).toBeGreaterThan(50);
    const scans = plans.filter((p) => /Seq Scan on harn_(agents|locks)/.test(p));
    if (process.env.SHOW_PLANS) console.log(scans.join('\n=====\n'));
    expect(scans).toEqual([]);
  }, 60_000);
});
