#!/usr/bin/env node
// The PostgreSQL store from long-lived library clients (one openRegistry per client, its pool reused across
// operations): the lock + release pair (median, worst) and the operations per second of 1, 4 and 8 concurrent
// clients on distinct paths, on an empty namespace and on one holding 1,000 agents / 10,000 locks; then a
// check that clients racing on one path are never two holders and lose no update.
//
//   node bench/pg.mjs [--dist DIR] [--url URL] [--seconds N] [--quick]
//
// Prints one JSON object. `--dist` runs another build (an older one, for comparison in the same conditions).
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
const { openRegistry } = await import(path.join(DIST, 'api.js'));
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'harn-bench-pg-'));
const DAY = 86_400_000;
const TAG = `${process.pid}-${Date.now()}`;
const open = (namespace) => openRegistry({ cwd: ws, store: URL_, namespace, agentTimeout: '3650d' });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A namespace holding `agents` agents with `locks` locks in all, through `import` (one transaction). */
async function seed(namespace, agents, locks) {
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
  const bin = path.join(DIST, '..', 'bin', 'harn-agents.js');
  const r = spawnSync(process.execPath, [bin, '--store', URL_, '--namespace', namespace, 'import', file], { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import exited ${r.status}: ${r.stderr}`);
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
    const left = (await registries[0].holder(['bench/hot.ts']))[0].holder;
    return { clients, rounds, grants, two_holders: twoHolders, left_held: left !== null };
  } finally {
    for (const r of registries) await r.close();
  }
}

const results = { dist: DIST, seconds_per_run: SECONDS, load_before: os.loadavg().map((x) => +x.toFixed(2)), namespaces: [] };
for (const [agents, locks] of [[0, 0], [1_000, 10_000]]) {
  const label = agents === 0 ? 'empty namespace' : `${agents} agents / ${locks} locks`;
  const runs = [];
  for (const clients of QUICK ? [1, 8] : [1, 4, 8]) {
    const ns = `bench-pg-${TAG}-${agents}-${clients}`;
    await seed(ns, agents, locks);
    runs.push(await throughput(ns, clients));
  }
  results.namespaces.push({ namespace: label, runs });
}
results.race = await race(`bench-pg-${TAG}-race`, 8, QUICK ? 10 : 40);
results.load_after = os.loadavg().map((x) => +x.toFixed(2));
fs.rmSync(ws, { recursive: true, force: true });
console.log(JSON.stringify(results));
