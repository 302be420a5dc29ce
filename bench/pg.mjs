#!/usr/bin/env node
// The PostgreSQL store from long-lived library clients (one openRegistry per client, its pool reused across
// operations), side by side with the server's own speed: for 1, 4 and 8 concurrent clients, on an empty
// namespace, one holding 1,000 agents / 10,000 locks and one holding 10,000 agents / 100,000 locks, our
// lock and release operations per second on distinct paths, and pgbench's simple-update script (`pgbench -N`,
// the same number of clients, on a database of its own on the same server) in the same run; our figure as a
// ratio of its. Then a check that clients racing on one path are never two holders and lose no update.
//
//   node bench/pg.mjs [--dist DIR] [--url URL] [--seconds N] [--quick] [--no-pgbench]
//
// Prints one JSON object. `--dist` runs another build (an older one, for comparison in the same conditions).
// The seeded agents are alive for the run (the workspace's agent-timeout is set to a day): a registry of live
// agents, not one being reaped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const QUICK = process.argv.includes('--quick');
const DIST = path.resolve(arg('--dist', path.join(import.meta.dirname, '..', 'dist')));
const URL_ = arg('--url', process.env.HARN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const SECONDS = Number(arg('--seconds', QUICK ? '1' : '4'));
const PGBENCH = !process.argv.includes('--no-pgbench');
const CLIENTS = QUICK ? [1, 8] : [1, 4, 8];
const SIZES = QUICK ? [[0, 0], [10_000, 100_000]] : [[0, 0], [1_000, 10_000], [10_000, 100_000]];
const { openRegistry } = await import(path.join(DIST, 'api.js'));
const BIN = path.join(DIST, '..', 'bin', 'harn-agents.js');
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'harn-bench-pg-'));
const DAY = 86_400_000;
const TAG = `${process.pid}-${Date.now()}`;
const open = (namespace) => openRegistry({ cwd: ws, store: URL_, namespace, agentTimeout: '3650d' });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function harn(namespace, ...args) {
  const r = spawnSync(process.execPath, [BIN, '--store', URL_, '--namespace', namespace, ...args], { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`harn-agents ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A namespace holding `agents` live agents with `locks` locks in all, through `import` (one transaction). */
function seed(namespace, agents, locks) {
  if (agents === 0) return;
  const now = Date.now();
  const parts = [];
  const perAgent = Math.floor(locks / agents);
  let n = 0;
  for (let id = 1; id <= agents; id++) {
    const mine = id === agents ? locks - n : perAgent;
    const paths = [];
    for (let i = 0; i < mine; i++, n++) paths.push(`"src/pkg-${id}/module-${n}.ts":${now + DAY}`);
    parts.push(`{"id":${id},"name":"agent-${id}","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{${paths.join(',')}}}`);
  }
  const file = path.join(ws, `seed-${agents}.json`);
  fs.writeFileSync(file, `{"next_id":${agents + 1},"agents":[${parts.join(',')}]}\n`);
  harn(namespace, 'import', file);
  harn(namespace, 'config', 'set', 'agent-timeout', '1d');
  // As pgbench -i does after loading: the bulk load vacuumed and analysed before the clock starts, so no
  // autovacuum of it runs during the measurement (a registry that grew over weeks is not freshly loaded).
  psql(new URL(URL_).pathname.slice(1), 'VACUUM ANALYZE harn_namespaces, harn_agents, harn_locks');
}

/**
 * A statement through psql on the store's server (its connection options from the store's URL); null when
 * psql is not installed (the client programs come with PostgreSQL): the vacuum and the clean-up are skipped
 * then, and the results say so.
 */
function psql(database, statement) {
  const { args, env } = pgbenchArgs();
  const r = spawnSync('psql', [...args, '-d', decodeURIComponent(database) || 'postgres', '-qAtc', statement], { env, encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') {
    results.psql = 'not installed: the seeded namespaces were neither vacuumed nor dropped';
    return null;
  }
  if (r.status !== 0) throw new Error(`psql exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Remove a namespace the run made, rows and events, so runs do not pile up in the database. */
function drop(namespace) {
  const ns = namespace.replaceAll("'", "''");
  psql(
    new URL(URL_).pathname.slice(1),
    ['harn_locks', 'harn_agents', 'harn_namespaces', 'harn_events', 'harn_registries'].map((t) => `DELETE FROM ${t} WHERE namespace = '${ns}';`).join(' '),
  );
}

/** C clients, each locking and releasing its own path for SECONDS; every lock must be granted. */
async function throughput(namespace, clients) {
  const registries = Array.from({ length: clients }, () => open(namespace));
  const pairs = [];
  let ops = 0;
  try {
    const ids = [];
    for (const r of registries) ids.push((await r.register('bench')).id);
    // Warm-up: each client's connection, schema check and statements, and the JIT.
    await Promise.all(
      registries.map(async (r, i) => {
        for (let k = 0; k < 20; k++) {
          await r.lock([`bench/warm-${i}.ts`], { agent: ids[i], ttl: '1m' });
          await r.release([`bench/warm-${i}.ts`], { agent: ids[i] });
        }
      }),
    );
    const end = performance.now() + SECONDS * 1000;
    const start = performance.now();
    await Promise.all(
      registries.map(async (r, i) => {
        const p = `bench/c${i}-${ids[i]}.ts`;
        while (performance.now() < end) {
          const t = performance.now();
          const locked = await r.lock([p], { agent: ids[i], ttl: '1m' });
          if (!locked.granted) throw new Error(`lost update or two holders: ${p} refused to its only user`);
          const released = await r.release([p], { agent: ids[i] });
          if (released.released.length !== 1) throw new Error(`lost update: ${p} was not held at its release`);
          pairs.push(performance.now() - t);
          ops += 2;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    for (let i = 0; i < clients; i++) await registries[i].unregister(ids[i]);
    return { clients, operations: ops, ops_per_second: +(ops / seconds).toFixed(1), pair_median_ms: +median(pairs).toFixed(2), pair_worst_ms: +Math.max(...pairs).toFixed(2) };
  } finally {
    for (const r of registries) await r.close();
  }
}

/** C clients racing for one path: at most one holder at any time (by their own account), none left. */
async function race(namespace, clients, rounds) {
  const registries = Array.from({ length: clients }, () => open(namespace));
  let holding = 0;
  let twoHolders = 0;
  let grants = 0;
  try {
    const ids = [];
    for (const r of registries) ids.push((await r.register('racer')).id);
    await Promise.all(
      registries.map(async (r, i) => {
        for (let k = 0; k < rounds; k++) {
          const got = await r.lock(['bench/hot.ts'], { agent: ids[i], ttl: '1m' });
          if (!got.granted) continue;
          grants++;
          if (++holding > 1) twoHolders++;
          await new Promise((resolve) => setImmediate(resolve));
          holding--;
          await r.release(['bench/hot.ts'], { agent: ids[i] });
        }
      }),
    );
    const left = (await registries[0].holder(['bench/hot.ts']))[0].holders.length;
    return { clients, rounds, grants, two_holders: twoHolders, left_held: left !== 0 };
  } finally {
    for (const r of registries) await r.close();
  }
}

/** pgbench's connection options from the store's URL (host, port, user; a database of its own). */
function pgbenchArgs() {
  const u = new URL(URL_);
  const args = [];
  if (u.hostname) args.push('-h', decodeURIComponent(u.hostname));
  if (u.port) args.push('-p', u.port);
  if (u.username) args.push('-U', decodeURIComponent(u.username));
  const env = { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
  return { args, env, database: 'harn_bench_pgbench' };
}

/** pgbench -N with C clients for SECONDS: the server's transactions per second for a small update. */
function pgbenchTps(clients) {
  const { args, env, database } = pgbenchArgs();
  const r = spawnSync('pgbench', [...args, '-n', '-N', '-c', String(clients), '-j', String(Math.min(clients, os.cpus().length)), '-T', String(SECONDS), database], { env, encoding: 'utf8' });
  const m = /tps = ([0-9.]+) \(without initial connection time\)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`pgbench exited ${r.status}: ${r.stderr}`);
  return +Number(m[1]).toFixed(1);
}

function pgbenchInit() {
  const { args, env, database } = pgbenchArgs();
  if (psql(new URL(URL_).pathname.slice(1), `SELECT 1 FROM pg_database WHERE datname = '${database}'`)?.trim() !== '1') {
    const c = spawnSync('createdb', [...args, database], { env, encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`createdb exited ${c.status}: ${c.stderr}`);
  }
  const r = spawnSync('pgbench', [...args, '-i', '-q', database], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pgbench -i exited ${r.status}: ${r.stderr}`);
}

const results = { dist: DIST, seconds_per_run: SECONDS, load_before: os.loadavg().map((x) => +x.toFixed(2)), namespaces: [] };
const hasPgbench = PGBENCH && spawnSync('pgbench', ['--version']).status === 0;
if (hasPgbench) pgbenchInit();
else results.pgbench = 'not run: pgbench is not installed (it comes with PostgreSQL)';
for (const [agents, locks] of SIZES) {
  const label = agents === 0 ? 'empty namespace' : `${agents} agents / ${locks} locks`;
  const runs = [];
  const ns = `bench-pg-${TAG}-${agents}`;
  seed(ns, agents, locks);
  for (const clients of CLIENTS) {
    const ours = await throughput(ns, clients);
    // The server's own figure right after ours, with as many clients: the two share the machine's state.
    const tps = hasPgbench ? pgbenchTps(clients) : null;
    runs.push({ ...ours, pgbench_tps: tps, vs_pgbench: tps ? +(ours.ops_per_second / tps).toFixed(2) : null });
  }
  results.namespaces.push({ namespace: label, runs });
  drop(ns);
}
results.race = await race(`bench-pg-${TAG}-race`, 8, QUICK ? 10 : 40);
drop(`bench-pg-${TAG}-race`);
results.load_after = os.loadavg().map((x) => +x.toFixed(2));
fs.rmSync(ws, { recursive: true, force: true });
console.log(JSON.stringify(results));
