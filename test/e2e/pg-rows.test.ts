import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/api/index.js';
import { locksOverlap } from '../../src/core/registry.js';
import { cli, tempDir } from '../helpers/cli.js';

// The PostgreSQL store's rows (schema 2): the migration from the one-row layout (schema 1) and the rules
// enforced across concurrent writers. Everything runs in a private schema (search_path in the URL's
// `options`), dropped at the end, so the shared tables other runs use are never touched.
const BASE_URL = process.env.HARN_TEST_POSTGRES_URL;
if (!BASE_URL) console.warn('[harn-agents] HARN_TEST_POSTGRES_URL is not set: the PostgreSQL rows tests are skipped');

const SCHEMA = `harn_rows_${process.pid}_${Date.now()}`;
function storeUrl(): string {
  const url = new URL(BASE_URL ?? 'postgres://localhost/none');
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

/** The tables as schema 1 (the one-row layout) created them. */
const SCHEMA_1 = [
  'CREATE TABLE harn_schema (version integer NOT NULL)',
  'INSERT INTO harn_schema (version) VALUES (1)',
  'CREATE TABLE harn_registries (namespace text PRIMARY KEY, snapshot text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())',
  'CREATE TABLE harn_events (id bigserial PRIMARY KEY, namespace text NOT NULL, ts bigint NOT NULL, event jsonb NOT NULL)',
  'CREATE INDEX harn_events_namespace ON harn_events (namespace, id)',
];

describe.skipIf(!BASE_URL)('the PostgreSQL store in rows', () => {
  let admin: pg.Client;
  const ws = tempDir('harn-pg-rows-');
  const store = (ns: string): string[] => ['--store', storeUrl(), '--namespace', ns];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    for (const statement of SCHEMA_1) await admin.query(statement.replace(/(TABLE|INTO|ON) harn_/, `$1 ${SCHEMA}.harn_`));
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });

  it('migrates a schema-1 namespace into rows on first use: export gives back its bytes, ids go on, a tombstone stays', async () => {
    // A registry written by the file store: the same layout schema 1 kept in its snapshot column.
    const source = tempDir();
    cli(['register', 'editor'], { cwd: source });
    cli(['register', 'ci', '--id', '7'], { cwd: source });
    cli(['lock', 'src/a.ts', 'docs/', '--agent', '1', '--ttl', '1h', '--reason', 'moving'], { cwd: source });
    cli(['lock', 'b.ts', '--agent', '7', '--ttl', '1h'], { cwd: source });
    const snapshot = fs.readFileSync(path.join(source, '.harn/agents.json'), 'utf8');
    await admin.query(`INSERT INTO ${SCHEMA}.harn_registries (namespace, snapshot) VALUES ('old', $1), ('broken', '{"agents":[{"id":"x"}]}')`, [snapshot]);
    await admin.query(`INSERT INTO ${SCHEMA}.harn_events (namespace, ts, event) VALUES ('old', 1, '{"type":"force-release","ts":1,"by":null,"reason":"r","broken":[]}')`);

    const exported = cli([...store('old'), 'export'], { cwd: ws });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe(snapshot);
    const rows = await admin.query(`SELECT (SELECT count(*) FROM ${SCHEMA}.harn_agents WHERE namespace = 'old')::int AS agents,
      (SELECT count(*) FROM ${SCHEMA}.harn_locks WHERE namespace = 'old')::int AS locks,
      (SELECT snapshot FROM ${SCHEMA}.harn_registries WHERE namespace = 'old') AS legacy`);
    expect(rows.rows[0]).toMatchObject({ agents: 2, locks: 3 });
    expect(rows.rows[0].legacy).toMatch(/moved to rows/);
    // Schema 1 stays as it was for clients of schema 1 on namespaces not moved yet.
    expect((await admin.query(`SELECT version FROM ${SCHEMA}.harn_schema`)).rows).toEqual([{ version: 1 }]);

    const refused = cli([...store('old'), 'lock', 'docs/x.md', '--agent', '7'], { cwd: ws });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/docs\/x\.md is held by agent 1 \(editor\) through docs\/ \(reason: moving\)/);
    expect(cli([...store('old'), 'register', 'next'], { cwd: ws }).stdout).toBe('8\n');
    expect(JSON.parse(cli([...store('old'), '--json', 'log'], { cwd: ws }).stdout).events.map((e: { type: string }) => e.type)).toEqual(['force-release']);
    // A second first use (a new process) moves nothing again.
    expect(JSON.parse(cli([...store('old'), '--json', 'status'], { cwd: ws }).stdout).agents.map((a: { id: number }) => a.id)).toEqual([1, 7, 8]);

    // A snapshot this version cannot read is left byte for byte: exit 3, and doctor names the way out.
    const broken = cli([...store('broken'), 'status'], { cwd: ws });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/is invalid: .*it was left untouched/);
    const kept = await admin.query(`SELECT snapshot FROM ${SCHEMA}.harn_registries WHERE namespace = 'broken'`);
    expect(kept.rows[0].snapshot).toBe('{"agents":[{"id":"x"}]}');
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.harn_namespaces WHERE namespace = 'broken'`)).rows[0].n).toBe(0);
  });

  it('long-lived library clients racing on overlapping files and directories: never two holders, no lost update', async () => {
    const paths = ['d/', 'd/x.ts', 'd/e/', 'd/e/y.ts', 'd/e/z.ts', 'f.ts', 'f.ts/', 'g/h.ts'];
    const registries = Array.from({ length: 6 }, () => openRegistry({ cwd: ws, store: storeUrl(), namespace: 'race', agentTimeout: '1h' }));
    /** What each client holds by its own account: from its grant's answer until it sends its release. */
    const held = new Map<number, string[]>();
    let grants = 0;
    let refusals = 0;
    const overlaps: string[] = [];
    try {
      const ids: number[] = [];
      for (const registry of registries) ids.push((await registry.register('racer')).id);
      expect(new Set(ids).size).toBe(registries.length);
      await Promise.all(
        registries.map(async (registry, i) => {
          const id = ids[i] as number;
          for (let k = 0; k < 40; k++) {
            const mine = [paths[(i * 7 + k * 3) % paths.length] as string, paths[(i + k * 5) % paths.length] as string].filter((p, j, all) => all.indexOf(p) === j);
            const r = await registry.lock(mine, { agent: id, ttl: '1h' });
            if (!r.granted) {
              refusals++;
              continue;
            }
            grants++;
            // Two holders by the clients' own accounts: each interval lies inside the one the server granted.
            for (const [other, theirs] of held) {
              if (other !== id && theirs.some((t) => mine.some((m) => locksOverlap(t, m)))) overlaps.push(`${id} ${mine} with ${other} ${theirs}`);
            }
            held.set(id, mine);
            // And by the server's own rows, while this grant holds: any live lock of another agent over these
            // paths is a second holder.
            const rows = await admin.query(`SELECT agent_id, path FROM ${SCHEMA}.harn_locks WHERE namespace = 'race' AND agent_id <> $1
              AND expires_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`, [id]);
            for (const row of rows.rows) {
              if (mine.some((m) => locksOverlap(row.path, m))) overlaps.push(`${id} ${mine} with row ${row.agent_id} ${row.path}`);
            }
            // Hold a while, so others try meanwhile.
            await new Promise((resolve) => setTimeout(resolve, k % 3));
            held.delete(id);
            const released = await registry.release(mine, { agent: id });
            expect(released.released).toEqual(mine);
          }
        }),
      );
      // The race was a race: both outcomes, many times.
      expect(grants).toBeGreaterThan(20);
      expect(refusals).toBeGreaterThan(20);
      expect(overlaps).toEqual([]);
      // Every release stood: nothing is left locked, and every agent is there once.
      const status = await registries[0]?.status({ all: true });
      expect(status?.agents.flatMap((a) => a.locks)).toEqual([]);
      expect(status?.agents.map((a) => a.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    } finally {
      for (const registry of registries) await registry.close();
    }
  });

  it('a silent holder is reaped by the writer that meets it, and its other locks go with it', async () => {
    const registry = openRegistry({ cwd: ws, store: storeUrl(), namespace: 'reap', agentTimeout: '1h' });
    try {
      await registry.lock(['a.ts', 'far/b.ts'], { agent: 1, ttl: '2h' });
      await admin.query(`UPDATE ${SCHEMA}.harn_agents SET last_seen_ms = last_seen_ms - 7200000 WHERE namespace = 'reap' AND id = 1`);
      const r = await registry.lock(['a.ts'], { agent: 2 });
      expect(r.granted).toBe(true);
      const rows = await admin.query(`SELECT path FROM ${SCHEMA}.harn_locks WHERE namespace = 'reap' AND agent_id = 1`);
      expect(rows.rows).toEqual([]);
      const state = await admin.query(`SELECT state FROM ${SCHEMA}.harn_agents WHERE namespace = 'reap' AND id = 1`);
      expect(state.rows[0].state).toBe('crashed');
      const events = (await registry.log()).events.filter((e) => e.type === 'reap');
      expect(events).toMatchObject([{ agent: { id: 1 }, released: ['a.ts', 'far/b.ts'] }]);
    } finally {
      await registry.close();
    }
  });
});
