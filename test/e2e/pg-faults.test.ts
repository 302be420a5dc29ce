import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir, type CliResult } from '../helpers/cli.js';

// The PostgreSQL store against a real server, under faults: another session holding row and table locks in
// an open transaction, and the CLI's own backend terminated at random moments. Everything runs in a private
// schema (search_path in the URL's `options`), so the table locks taken here never touch the shared tables
// other test runs use; the schema is dropped at the end.
const BASE_URL = process.env.HARN_TEST_POSTGRES_URL;
if (!BASE_URL) console.warn('[harn-agents] HARN_TEST_POSTGRES_URL is not set: the PostgreSQL fault tests are skipped');

const TAG = `${process.pid}_${Date.now()}`;
const SCHEMA = `harn_fault_${TAG}`;
/** The CLI's sessions carry this application_name, so the test finds (and terminates) only its own. */
const CLI_APP = `harn-fault-cli-${TAG}`;
const TRIALS = process.env.HARN_STRESS === 'long' ? 200 : 20;
const WAIT = '2s';
/** A call still running after this is hung: killed, and the test fails. */
const HANG_MS = 30_000;

function storeUrl(schema: string, app = CLI_APP, password?: string): string {
  const url = new URL(BASE_URL ?? 'postgres://localhost/none');
  if (password) url.password = password;
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', app);
  return url.toString();
}

async function connect(schema: string, app: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: storeUrl(schema, app) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Run the CLI without blocking the test's own pg clients; a call that outlives HANG_MS is killed. */
function run(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv({ HARN_STATE_LOCK_WAIT: WAIT, ...options.env }) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end();
  });
}

/** A fault is reported as one line, never a stack trace. */
function expectOneLine(r: CliResult): void {
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^harn-agents: /);
  expect(r.stderr).not.toMatch(/\n\s+at |TypeError|ReferenceError|node:internal/);
}

let counter = 0;
const nextNamespace = (): string => `fault-${TAG}-${counter++}`;

describe.skipIf(!BASE_URL)('the PostgreSQL store under faults', () => {
  let admin: pg.Client;
  const ws = tempDir('harn-pg-fault-');
  const store = (ns: string, schema = SCHEMA): string[] => ['--store', storeUrl(schema), '--namespace', ns];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    // The first call creates the tables in the private schema.
    const first = await run([...store(nextNamespace()), 'register', 'setup'], { cwd: ws });
    expect(first.code, first.stderr).toBe(0);
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_fresh CASCADE`);
    await admin.end();
  });

  it("a session holding an agent's row lock: that agent's writes exit 4 within the wait; reads, other agents and other namespaces go on", async () => {
    const ns = nextNamespace();
    const other = nextNamespace();
    expect((await run([...store(ns), 'lock', 'a.ts', '--agent', '1'], { cwd: ws })).code).toBe(0);
    expect((await run([...store(ns), 'heartbeat', '2'], { cwd: ws })).code).toBe(0);
    const holder = await connect(SCHEMA, `harn-fault-holder-${TAG}`);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM harn_agents WHERE namespace = $1 AND id = 2 FOR UPDATE', [ns]);
      // No namespace-wide lock: another agent of the same namespace locks meanwhile.
      expect((await run([...store(ns), 'lock', 'c.ts', '--agent', '3'], { cwd: ws })).code).toBe(0);
      const refused = await run([...store(ns), 'lock', 'b.ts', '--agent', '2'], { cwd: ws });
      expect(refused.signal).toBeNull();
      expect(refused.code).toBe(4);
      expectOneLine(refused);
      expect(refused.stderr).toMatch(/timed out after 2s \(HARN_STATE_LOCK_WAIT\) waiting for a lock in the PostgreSQL store .*; nothing was changed/);
      expect((await run([...store(ns), 'holder', 'a.ts'], { cwd: ws })).code).toBe(0);
      expect((await run([...store(other), 'lock', 'b.ts', '--agent', '2'], { cwd: ws })).code).toBe(0);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await run([...store(ns), 'lock', 'b.ts', '--agent', '2'], { cwd: ws })).code).toBe(0);
  });

  it('a session stopped while inserting events blocks nobody (no DDL runs once the schema exists)', async () => {
    const holder = await connect(SCHEMA, `harn-fault-holder-${TAG}`);
    try {
      await holder.query('BEGIN');
      await holder.query("INSERT INTO harn_events (namespace, ts, event) VALUES ('stalled', 0, '{}')");
      for (let i = 0; i < 2; i++) {
        const ns = nextNamespace();
        const locked = await run([...store(ns), 'lock', 'x.ts', '--agent', '1'], { cwd: ws });
        expect(locked.signal).toBeNull();
        expect(locked.code, locked.stderr).toBe(0);
        const broken = await run([...store(ns), 'release', '--force', 'x.ts', '--reason', 'test'], { cwd: ws });
        expect(broken.code, broken.stderr).toBe(0);
        expect((await run([...store(ns), 'log'], { cwd: ws })).stdout).toMatch(/force-release/);
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('table locks in an open transaction: what they block exits 4 within the wait, what they allow goes on', async () => {
    const ns = nextNamespace();
    expect((await run([...store(ns), 'lock', 'x.ts', '--agent', '1'], { cwd: ws })).code).toBe(0);
    const holder = await connect(SCHEMA, `harn-fault-holder-${TAG}`);
    try {
      // The event table locked against writers: a command that records an event waits and gives up.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE harn_events IN EXCLUSIVE MODE');
      const force = await run([...store(ns), 'release', '--force', 'x.ts', '--reason', 'test'], { cwd: ws });
      expect(force.code).toBe(4);
      expectOneLine(force);
      expect((await run([...store(ns), 'lock', 'y.ts', '--agent', '1'], { cwd: ws })).code).toBe(0);
      expect((await run([...store(ns), 'log'], { cwd: ws })).code).toBe(0);
      await holder.query('ROLLBACK');

      // The lock table locked against writers: writes wait and give up, plain reads go on.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE harn_locks IN EXCLUSIVE MODE');
      const write = await run([...store(ns), 'lock', 'z.ts', '--agent', '1'], { cwd: ws });
      expect(write.code).toBe(4);
      expectOneLine(write);
      expect((await run([...store(ns), 'holder', 'x.ts'], { cwd: ws })).code).toBe(0);
      await holder.query('ROLLBACK');

      // Locked against everything: every call, reads included, waits and gives up.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE harn_agents IN ACCESS EXCLUSIVE MODE');
      const read = await run([...store(ns), 'status'], { cwd: ws });
      expect(read.code).toBe(4);
      expectOneLine(read);
      await holder.query('ROLLBACK');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    expect((await run([...store(ns), '--json', 'holder', 'x.ts'], { cwd: ws })).stdout).toMatch(/"id": ?1/);
  });

  it('schema creation waits for its advisory lock no longer than the wait either', async () => {
    const fresh = `${SCHEMA}_fresh`;
    await admin.query(`CREATE SCHEMA ${fresh}`);
    const holder = await connect(fresh, `harn-fault-holder-${TAG}`);
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('harn-agents schema'))");
      const r = await run([...store(nextNamespace(), fresh), 'register', 'a'], { cwd: ws });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(4);
      expectOneLine(r);
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtext('harn-agents schema'))");
      await holder.end();
    }
    expect((await run([...store(nextNamespace(), fresh), 'register', 'a'], { cwd: ws })).code).toBe(0);
  });

  it(`the CLI's own backend terminated at random moments (${TRIALS} trials): exit 0, or 3/4 with one line; nothing acknowledged is lost`, async () => {
    const ns = nextNamespace();
    // No agent is reaped during the trials, so everything acknowledged must still be there at the end.
    const pgArgs = [...store(ns), '--agent-timeout', '1h'];
    const killer = await connect(SCHEMA, `harn-fault-killer-${TAG}`);
    const outcomes: Record<string, number> = {};
    const acknowledged: string[] = [];
    const unchanged: string[] = [];
    // Writes by how they ended: committed (acknowledged, exit 0) and cut off (their session terminated, exit
    // 3 or 4). The check below means something only if both happened.
    let committed = 0;
    let cutOff = 0;
    /** One call of kind `i % 3`, its session ended `delay()` ms after it appears. */
    const trial = async (i: number, delay: () => number): Promise<void> => {
      const kind = i % 3;
      const args = kind === 0 ? ['register', `t${i}`] : kind === 1 ? ['lock', `f${i}.ts`, '--agent', '1', '--ttl', '1h'] : ['status'];
      const call = run([...pgArgs, ...args], { cwd: ws });
      let done = false;
      void call.then(() => (done = true));
      // Wait until the call's session appears, then let it run a few milliseconds and end it.
      let terminated = false;
      while (!done && !terminated) {
        const seen = await killer.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [CLI_APP]);
        if (seen.rows.length > 0) {
          await new Promise((resolve) => setTimeout(resolve, delay()));
          const killed = await killer.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [CLI_APP]);
          terminated = killed.rows.length > 0;
        }
      }
      const r = await call;
      const key = `exit ${r.code}${terminated ? ' (terminated)' : ''}${/may or may not/.test(r.stderr) ? ' (commit unknown)' : ''}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      expect(r.signal, r.stderr).toBeNull();
      expect([0, 3, 4], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      if (r.code !== 0) {
        expectOneLine(r);
        expect(r.stderr).toMatch(/PostgreSQL store/);
      }
      const effect = kind === 0 ? `agent t${i}` : kind === 1 ? `lock f${i}.ts` : undefined;
      if (effect && r.code === 0) {
        acknowledged.push(effect);
        committed++;
      }
      if (effect && r.code !== 0 && terminated) cutOff++;
      if (effect && r.code !== 0 && /nothing was changed/.test(r.stderr)) unchanged.push(effect);
    };
    try {
      for (let i = 0; i < TRIALS; i++) await trial(i, () => Math.floor(Math.random() * 12));
      // Where chance gave only one of the two outcomes, more writes steer to the other: ended at once for a
      // cut-off; for a commit, ended later and later (5 ms to 640 ms), so the end lands near and then after
      // the commit. Bounded: a store that can do neither fails below.
      for (let i = TRIALS, step = 0; (committed === 0 || cutOff === 0) && i < TRIALS + 60; i++) {
        if (i % 3 === 2) continue;
        const later = 5 * 2 ** (step++ % 8);
        await trial(i, () => (cutOff === 0 ? 0 : later));
      }
    } finally {
      await killer.end();
    }
    expect({ committed: committed > 0, cutOff: cutOff > 0 }, JSON.stringify(outcomes)).toEqual({ committed: true, cutOff: true });
    console.log(`[harn-agents] pg_terminate_backend trials: ${JSON.stringify(outcomes)}`);
    const status = await run([...pgArgs, '--json', 'status', '--all'], { cwd: ws });
    expect(status.code, status.stderr).toBe(0);
    const agents = JSON.parse(status.stdout).agents as Array<{ id: number; name: string; locks: Array<{ path: string }> }>;
    const present = new Set([...agents.map((a) => `agent ${a.name}`), ...agents.flatMap((a) => a.locks.map((l) => `lock ${l.path}`))]);
    for (const effect of acknowledged) expect(present.has(effect), `acknowledged ${effect} is missing`).toBe(true);
    for (const effect of unchanged) expect(present.has(effect), `${effect} was reported unchanged but is there`).toBe(false);
    const ids = agents.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000 + TRIALS * 2_000);

  it('a connection lost during COMMIT: exit 3, and the message says the outcome is unknown', async () => {
    // A deferred trigger makes this one COMMIT last seconds, so the session can be ended while it runs.
    await admin.query(`CREATE FUNCTION ${SCHEMA}.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name LIKE '%slow-commit%' THEN PERFORM pg_sleep(5); END IF; RETURN NULL; END $$`);
    await admin.query(`CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON ${SCHEMA}.harn_agents
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.slow_commit()`);
    const killer = await connect(SCHEMA, `harn-fault-killer-${TAG}`);
    try {
      const ns = nextNamespace();
      // The namespace's first use (its row, created in a transaction of its own) is over before the trial.
      expect((await run([...store(ns), 'status'], { cwd: ws })).code).toBe(0);
      const call = run([...store(ns), 'register', 'slow-commit'], { cwd: ws, env: { HARN_STATE_LOCK_WAIT: '20s' } });
      let done = false;
      void call.then(() => (done = true));
      let killed = 0;
      while (!done && killed === 0) {
        const r = await killer.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query = 'COMMIT'",
          [CLI_APP],
        );
        killed = r.rows.length;
      }
      const r = await call;
      expect(killed).toBe(1);
      expect(r.code).toBe(3);
      expectOneLine(r);
      expect(r.stderr).toMatch(/lost the connection to the PostgreSQL store .* during COMMIT .*: the change may or may not have been saved/);
    } finally {
      await killer.end();
      await admin.query(`DROP TRIGGER slow_commit ON ${SCHEMA}.harn_agents`);
    }
  });

  it('no password in any output: location, import, errors', async () => {
    const ns = nextNamespace();
    const url = storeUrl(SCHEMA, CLI_APP, 'Pa55/w@rd'); // trust authentication ignores it
    const file = path.join(ws, 'registry.json');
    fs.writeFileSync(file, JSON.stringify({ next_id: 3, agents: [] }));
    const outputs: CliResult[] = [];
    outputs.push(await run(['--store', url, '--namespace', ns, 'import', file], { cwd: ws }));
    outputs.push(await run(['--store', url, '--namespace', ns, '--json', 'import', file], { cwd: ws }));
    expect(outputs[0]?.stdout).toMatch(/imported 0 agents into postgres:\/\/postgres:\*\*\*@/);
    const holder = await connect(SCHEMA, `harn-fault-holder-${TAG}`);
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE harn_agents IN ACCESS EXCLUSIVE MODE');
      const timedOut = await run(['--store', url, '--namespace', ns, 'status'], { cwd: ws });
      expect(timedOut.code).toBe(4);
      outputs.push(timedOut);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    outputs.push(await run(['--store', `${url.replace(/@[^/]*\//, '@127.0.0.1:1/')}`, 'status'], { cwd: ws }));
    outputs.push(await run(['--store', 'host=db password=Pa55/w@rd', 'status'], { cwd: ws }));
    for (const r of outputs) {
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/Pa55|w@rd|Pa55%2Fw%40rd/);
    }
  });
});

describe.skipIf(!BASE_URL)('the default namespace: host and path of the git remote', () => {
  let admin: pg.Client;
  const schema = `${SCHEMA}_ns`;
  const repo = `acme/app-${TAG}`;
  const token = `TOKEN${TAG}`;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  function clone(remote: string): string {
    const dir = tempDir('harn-clone-');
    expect(spawnSync('git', ['init', '-q'], { cwd: dir }).status).toBe(0);
    expect(spawnSync('git', ['remote', 'add', 'origin', remote], { cwd: dir }).status).toBe(0);
    return dir;
  }

  it('three clones with three forms of one remote share one namespace; no credential reaches the database', async () => {
    const clones = [`https://alice:${token}@git.example.test/${repo}.git`, `git@git.example.test:${repo}.git`, `ssh://git@git.example.test/${repo}/`].map(clone);
    const url = storeUrl(schema);
    const [a, b, c] = clones as [string, string, string];
    const taken = await run(['--store', url, 'lock', 'src/api.ts', '--agent', '1'], { cwd: a });
    expect(taken.code, taken.stderr).toBe(0);
    for (const dir of [b, c]) {
      const refused = await run(['--store', url, 'lock', 'src/api.ts', '--agent', '2'], { cwd: dir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/src\/api\.ts is held by agent 1/);
    }
    const imported = await run(['--store', url, 'import', '-'], { cwd: a });
    expect(`${imported.stdout}${imported.stderr}`).not.toContain(token);
    const rows = await admin.query(`SELECT namespace FROM ${schema}.harn_registries`);
    expect(rows.rows.map((r) => r.namespace)).toEqual([`git.example.test/${repo}`]);
    const dump = await admin.query(`SELECT r::text AS t FROM ${schema}.harn_registries r UNION ALL SELECT e::text FROM ${schema}.harn_events e`);
    for (const row of dump.rows) expect(row.t).not.toContain(token);
  });

  it('a registry kept under the raw remote URL (earlier versions) moves to the new key on first use, events and all', async () => {
    const remote = `https://bob:${token}@git.example.test/${repo}-legacy.git`;
    const url = storeUrl(schema);
    const dir = clone(remote);
    // What an earlier version wrote (schema 1, a snapshot a row): the raw remote URL as the namespace.
    const first = await run(['--store', url, '--namespace', 'setup', 'status'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const future = Date.now() + 3_600_000;
    await admin.query(`INSERT INTO ${schema}.harn_registries (namespace, snapshot) VALUES ($1, $2)`, [
      remote,
      `{"next_id":8,"agents":[{"id":7,"name":"agent-7","state":"active","last_seen_ms":${Date.now()},"edit_count":0,"locked_paths":{"kept.ts":${future}}}]}`,
    ]);
    await admin.query(`INSERT INTO ${schema}.harn_events (namespace, ts, event) VALUES ($1, 1, '{"type":"force-release","ts":1,"by":null,"reason":"r","broken":[]}')`, [remote]);

    const held = await run(['--store', url, '--json', 'holder', 'kept.ts'], { cwd: dir });
    expect(held.code, held.stderr).toBe(0);
    expect(JSON.parse(held.stdout)[0].holders[0].agent.id).toBe(7);
    const log = await run(['--store', url, '--json', 'log'], { cwd: dir });
    expect(JSON.parse(log.stdout).events.map((e: { type: string }) => e.type)).toEqual(['force-release']);
    const rows = await admin.query(`SELECT namespace FROM ${schema}.harn_registries WHERE namespace LIKE $1 OR namespace LIKE $2`, [
      `%${repo}-legacy%`,
      `%${token}%`,
    ]);
    expect(rows.rows.map((r) => r.namespace)).toEqual([`git.example.test/${repo}-legacy`]);
    const events = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.harn_events WHERE namespace LIKE $1`, [`%${token}%`]);
    expect(events.rows[0].n).toBe(0);
  });
});
