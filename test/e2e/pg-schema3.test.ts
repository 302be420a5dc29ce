import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROWS_DDL } from '../../src/store/pg-rows.js';
import { cli, tempDir } from '../helpers/cli.js';

// Schema 2 to 3 (lock modes, slots, pattern rows): a database a schema-2 client made keeps its namespaces
// and rows, and gets the new columns and version on first use. In a private schema, dropped at the end.
const BASE_URL = process.env.HARN_TEST_POSTGRES_URL;
if (!BASE_URL) console.warn('[harn-agents] HARN_TEST_POSTGRES_URL is not set: the PostgreSQL schema-3 tests are skipped');

const SCHEMA = `harn_v3_${process.pid}_${Date.now()}`;
function storeUrl(): string {
  const url = new URL(BASE_URL ?? 'postgres://localhost/none');
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

describe.skipIf(!BASE_URL)('the PostgreSQL store from schema 2 to 3', () => {
  let admin: pg.Client;
  const ws = tempDir('harn-pg-v3-');
  const store = (ns: string): string[] => ['--store', storeUrl(), '--namespace', ns];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`SET search_path = ${SCHEMA}`);
    // The tables as a schema-2 client created them: this version's DDL without what schema 3 added.
    const schema2 = ROWS_DDL.filter((s) => !/\bmode\b|\bslots\b|harn_locks_patterns/.test(s));
    expect(schema2.length).toBe(ROWS_DDL.length - 3);
    for (const statement of schema2) await admin.query(statement);
    await admin.query('INSERT INTO harn_schema (version) VALUES (1)');
    await admin.query('INSERT INTO harn_layout (version) VALUES (2)');
    // Two namespaces as schema 2 kept them: an agent holding a file and a directory, with a reason.
    const now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
    for (const ns of ['kept-a', 'kept-b']) {
      await admin.query("INSERT INTO harn_namespaces (namespace, next_id) VALUES ($1, 3)", [ns]);
      await admin.query(`INSERT INTO harn_agents (namespace, id, name, state, last_seen_ms, edit_count, timeout_ms) VALUES ($1, 1, 'old', 'active', ${now}, 2, 36000000)`, [ns]);
      await admin.query(`INSERT INTO harn_locks (namespace, path, agent_id, expires_ms, reason, reason_ord) VALUES ($1, 'src/a.ts', 1, ${now} + 3600000, 'kept', nextval('harn_order')), ($1, 'lib/', 1, ${now} + 3600000, NULL, NULL)`, [ns]);
    }
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });

  it('keeps every namespace and lock (as exclusive locks), adds the columns, and says version 3', async () => {
    const held = cli([...store('kept-a'), '--json', 'holder', 'src/a.ts', 'lib/x.ts'], { cwd: ws });
    expect(held.code, held.stderr).toBe(0);
    expect(JSON.parse(held.stdout).map((p: { holders: Array<{ path: string; mode: string; reason: string | null }> }) => p.holders.map((h) => [h.path, h.mode, h.reason]))).toEqual([
      [['src/a.ts', 'exclusive', 'kept']],
      [['lib/', 'exclusive', null]],
    ]);
    expect((await admin.query('SELECT version FROM harn_layout')).rows).toEqual([{ version: 3 }]);
    const columns = await admin.query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'harn_locks' ORDER BY column_name", [SCHEMA]);
    expect(columns.rows.map((r) => r.column_name)).toEqual(expect.arrayContaining(['mode', 'slots']));
    // The other namespace is there too, and the new kinds work beside the old rows.
    expect(cli([...store('kept-b'), 'lock', 'src/a.ts', '--agent', '2'], { cwd: ws }).code).toBe(1);
    expect(cli([...store('kept-b'), 'lock', 'src/**', '--shared', '--agent', '2'], { cwd: ws }).code).toBe(1);
    expect(cli([...store('kept-b'), 'lock', 'docs/x.md', '--shared', '--agent', '2'], { cwd: ws }).code).toBe(0);
    expect(cli([...store('kept-b'), 'lock', 'docs/x.md', '--shared', '--agent', '3'], { cwd: ws }).code).toBe(0);
    expect(cli([...store('kept-b'), 'lock', '@db', '--slots', '2', '--agent', '2'], { cwd: ws }).code).toBe(0);
    const rows = await admin.query("SELECT path, agent_id, mode, slots FROM harn_locks WHERE namespace = 'kept-b' ORDER BY path, agent_id");
    expect(rows.rows.map((r) => [r.path, Number(r.agent_id), r.mode, r.slots])).toEqual([
      ['@db', 2, null, 2],
      ['docs/x.md', 2, 'shared', null],
      ['docs/x.md', 3, 'shared', null],
      ['lib/', 1, null, null],
      ['src/a.ts', 1, null, null],
    ]);
    // export and import keep the terms: the state file layout with harn.locks.
    const exported = cli([...store('kept-b'), 'export'], { cwd: ws });
    expect(JSON.parse(exported.stdout).harn.locks).toEqual({ 2: { 'docs/x.md': { mode: 'shared' }, '@db': { slots: 2 } }, 3: { 'docs/x.md': { mode: 'shared' } } });
  });

  it('a database of a newer schema is refused with one line, nothing changed', async () => {
    await admin.query('UPDATE harn_layout SET version = 4');
    const refused = cli([...store('kept-a'), 'holder', 'src/a.ts'], { cwd: ws });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/schema is version 4, newer than this harn-agents understands \(3\)/);
    await admin.query('UPDATE harn_layout SET version = 3');
  });
});
