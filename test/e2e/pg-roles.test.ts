import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 21: namespaces that never move, and a read-only role that can read. Against the real server, in a
// private schema, with a role created with SELECT alone.

const BASE_URL = process.env.HARN_TEST_POSTGRES_URL;
const TAG = `${process.pid}_${Date.now()}`;
const SCHEMA = `harn_roles_${TAG}`;
const READER = `harn_reader_${TAG}`;

function url(user?: string): string {
  const u = new URL(BASE_URL ?? 'postgres://localhost/none');
  if (user) u.username = user;
  u.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return u.toString();
}

describe.skipIf(!BASE_URL)('PostgreSQL roles and namespaces', () => {
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`CREATE ROLE ${READER} LOGIN`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`DROP OWNED BY ${READER}`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${READER}`);
    await admin.end();
  });

  it('a role with SELECT alone runs every read, even one whose reap it cannot save; a write is one line naming the privilege; doctor says what to grant', async () => {
    const ws = tempDir();
    const writer = ['--store', url(), '--namespace', 'shared'];
    expect(cli([...writer, 'register', 'owner', '--timeout', '1h'], { cwd: ws }).code).toBe(0);
    expect(cli([...writer, 'lock', 'a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'mine'], { cwd: ws }).code).toBe(0);
    // An agent long silent, whose reap a read would want to save.
    expect(cli([...writer, 'register', 'silent'], { cwd: ws }).code).toBe(0);
    expect(cli([...writer, 'lock', 'b.ts', '--agent', '2', '--ttl', '1h'], { cwd: ws }).code).toBe(0);
    await admin.query(`UPDATE ${SCHEMA}.harn_agents SET last_seen_ms = 1000 WHERE namespace = 'shared' AND id = 2`);
    await admin.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ${READER}; GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${READER}`);

    const reader = ['--store', url(READER), '--namespace', 'shared'];
    const reads: Array<[string[], number]> = [
      [['status'], 0],
      [['export'], 0],
      [['log'], 0],
      [['holder', 'a.ts'], 0],
      [['holder', 'b.ts'], 1], // its holder is reaped in the answer, though the reader cannot save that
      [['check', 'a.ts', '--agent', '5'], 1],
      [['check', 'a.ts'], 1],
      [['check', 'free.ts', '--agent', '5'], 0],
    ];
    for (const [args, code] of reads) {
      const result = cli([...reader, ...args], { cwd: ws });
      expect({ args, code: result.code, stderr: result.stderr.replace(/^.*held by.*\n/gm, '') }).toEqual({ args, code, stderr: expect.not.stringMatching(/permission denied|harn-agents: .*PostgreSQL/) });
    }
    // Nothing was written by the reads: agent 2 is still active in the rows.
    expect((await admin.query(`SELECT state FROM ${SCHEMA}.harn_agents WHERE namespace = 'shared' AND id = 2`)).rows[0].state).toBe('active');

    const write = cli([...reader, 'lock', 'c.ts', '--agent', '1'], { cwd: ws });
    expect(write.code).toBe(3);
    expect(write.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(write.stderr).toMatch(new RegExp(`^harn-agents: the PostgreSQL role lacks a privilege in .*: permission denied for (table|sequence) harn_\\w+ \\(role ${READER}\\); reads need SELECT`));

    const doctor = cli([...reader, '--json', 'doctor'], { cwd: ws });
    expect(doctor.code).toBe(1);
    const store = JSON.parse(doctor.stdout).checks.find((c: { check: string }) => c.check === 'store');
    expect(store.ok).toBe(false);
    expect(store.detail).toMatch(new RegExp(`^connected as ${READER}, which can read but not write: it lacks DELETE, INSERT, UPDATE on harn_agents; .*USAGE on harn_order; .*\\(the tables' owner can grant them\\)$`));
    // The printed statement, run by the tables' owner (in the store's schema), makes the role a writer.
    const grant = /-c '(.*)'$/.exec(store.fix)?.[1] ?? '';
    await admin.query(`SET search_path TO ${SCHEMA}`);
    await admin.query(grant);
    await admin.query('RESET search_path');
    const healed = cli([...reader, 'doctor'], { cwd: ws });
    expect(healed.code, healed.stdout).toBe(0);
    expect(cli([...reader, 'lock', 'c.ts', '--agent', '1'], { cwd: ws }).code).toBe(0);
  });

  it('a writer that may not create functions locks the usual way, without trying to install one on every call', async () => {
    const ws = tempDir();
    const owner = ['--store', url(), '--namespace', 'no-create'];
    expect(cli([...owner, 'register', 'owner'], { cwd: ws }).code).toBe(0);
    // The tables are there; the server-side function is not (as a database its owner has not prepared for it).
    const functions = await admin.query(`SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname LIKE 'harn_op_%'`, [SCHEMA]);
    for (const row of functions.rows) await admin.query(`DROP FUNCTION ${row.f}`);
    await admin.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ${READER}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${READER}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${SCHEMA} TO ${READER}`);
    const writer = ['--store', url(READER), '--namespace', 'no-create'];
    for (const file of ['x.ts', 'y.ts']) {
      const r = cli([...writer, 'lock', file, '--agent', '1'], { cwd: ws, env: { HARN_DEBUG: '1' } });
      expect(r.code, r.stderr).toBe(0);
      const statements = r.stderr.split('\n').filter((line) => line.startsWith('harn-agents: debug: statement: '));
      // Never an attempt to create it (each would queue on the schema's lock): the function asked for once,
      // the schema check, and the usual four.
      expect(statements.filter((line) => /CREATE|hashtext/.test(line)), r.stderr).toEqual([]);
      expect(statements.length, r.stderr).toBeLessThanOrEqual(6);
    }
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.harn_locks WHERE namespace = 'no-create'`)).rows[0].n).toBe(2);
  });

  it("a local-path remote spelled like another team's namespace (github.com/acme/app) does not adopt its rows", async () => {
    const base = tempDir('harn-adopt-');
    const env = cleanEnv();
    const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env });
    // The other team: a clone of https://github.com/acme/app, whose namespace is github.com/acme/app.
    const team = path.join(base, 'team');
    fs.mkdirSync(team);
    git(team, 'init', '-q');
    git(team, 'remote', 'add', 'origin', 'https://github.com/acme/app.git');
    expect(cli(['--store', url(), 'register', 'team-agent'], { cwd: team }).code).toBe(0);
    expect(cli(['--store', url(), 'lock', 'x.ts', '--agent', '1', '--ttl', '1h'], { cwd: team }).code).toBe(0);
    expect(cli(['--store', url(), 'release', 'x.ts', '--force', '--reason', 'audit'], { cwd: team }).code).toBe(0);
    const before = (await admin.query(`SELECT namespace FROM ${SCHEMA}.harn_registries WHERE namespace = 'github.com/acme/app'`)).rowCount;
    expect(before).toBe(1);
    // The attacker: a remote that is a relative local path, spelled as that namespace.
    const evil = path.join(base, 'evil');
    fs.mkdirSync(evil);
    git(evil, 'init', '-q');
    git(evil, 'remote', 'add', 'origin', 'github.com/acme/app');
    const status = cli(['--store', url(), '--json', 'status'], { cwd: evil });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).agents).toEqual([]);
    // The team's registry, its tombstone row and its event log stay under its own key.
    expect((await admin.query(`SELECT namespace FROM ${SCHEMA}.harn_registries WHERE namespace = 'github.com/acme/app'`)).rowCount).toBe(1);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.harn_events WHERE namespace = 'github.com/acme/app'`)).rows[0].n).toBe(1);
    expect(JSON.parse(cli(['--store', url(), '--json', 'status'], { cwd: team }).stdout).agents.map((a: { name: string }) => a.name)).toEqual(['team-agent']);
  });
});
