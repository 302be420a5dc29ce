#!/usr/bin/env node
// harn-agents benchmark: the cost of one CLI call against floors measured side by side in the same run
// (starting node at all; starting node plus reading and JSON.parse-ing the same state file; and that plus the
// durable write of the state, bench/floors/), contention between parallel processes, how the cost grows with
// the registry, and a simulated year of CI jobs.
//
//   npm run bench                 full run (a few minutes), writes bench/results.json
//   node bench/run.mjs --quick    fewer rounds and sizes, for a smoke test
//   node bench/run.mjs --targets  only the targets (section 0, about 2 minutes); prints, writes nothing
//
// Each figure is the median wall time of ROUNDS runs; the command and its floors run in turn (A, B, C, A, B,
// C, ...) so drift on a shared machine hits them alike. Uses only node's own child_process and a monotonic clock.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// --help prints the usage above; anything unknown is refused before minutes of measuring start.
const KNOWN = new Set(['--quick', '--targets', '--help', '-h']);
const unknown = process.argv.slice(2).filter((a) => !KNOWN.has(a));
if (unknown.length > 0 || process.argv.includes('--help') || process.argv.includes('-h')) {
  const usage = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 12).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
  if (unknown.length > 0) console.error(`bench: unknown option ${unknown[0]}`);
  (unknown.length > 0 ? console.error : console.log)(usage);
  process.exit(unknown.length > 0 ? 2 : 0);
}
const QUICK = process.argv.includes('--quick');
const TARGETS_ONLY = process.argv.includes('--targets');
const ROUNDS = QUICK ? 5 : 21;
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'harn-agents.js');
const NODE = process.execPath;
const DAY = 86_400_000;
// Fixtures' agents must not be reaped while the bench runs.
const ENV = { ...process.env, HARN_AGENT_TIMEOUT: '3650d', NO_COLOR: '1' };
for (const key of Object.keys(ENV)) if (key.startsWith('HARN_') && key !== 'HARN_AGENT_TIMEOUT') delete ENV[key];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => Number(x.toFixed(1));

function timeOnce(argv, cwd, env = ENV) {
  // `{stdin: FILE}` as the last word: the command reads FILE on its stdin (a fresh descriptor each run).
  const last = argv[argv.length - 1];
  const stdinFile = typeof last === 'object' ? last.stdin : null;
  const words = stdinFile ? argv.slice(0, -1) : argv;
  const fd = stdinFile ? fs.openSync(stdinFile, 'r') : 'ignore';
  const start = process.hrtime.bigint();
  const r = spawnSync(words[0], words.slice(1), { cwd, env, stdio: [fd, 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (typeof fd === 'number') fs.closeSync(fd);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return elapsed;
}

/** Run each named command ROUNDS times, interleaved; return the median ms of each. */
function interleaved(commands, cwd, rounds = ROUNDS) {
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  // A command is its argv, or { argv, env } to run it with more in its environment.
  const once = (command) => (Array.isArray(command) ? timeOnce(command, cwd) : timeOnce(command.argv, cwd, { ...ENV, ...command.env }));
  for (const command of Object.values(commands)) once(command); // warm-up (page cache, lazy bundles, the session keeper)
  for (let r = 0; r < rounds; r++) for (const [name, command] of Object.entries(commands)) times[name].push(once(command));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** A workspace whose registry has `agents` agents holding `locks` locks in all (spread evenly). */
function fixture(agents, locks) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `harn-bench-${agents}-`));
  if (agents === 0) return { dir, file: null, bytes: 0 };
  fs.mkdirSync(path.join(dir, '.harn'));
  const now = Date.now();
  const parts = [];
  const perAgent = Math.floor(locks / agents);
  let lockNo = 0;
  for (let id = 1; id <= agents; id++) {
    const mine = id === agents ? locks - lockNo : perAgent;
    const paths = [];
    for (let i = 0; i < mine; i++, lockNo++) paths.push(`"src/pkg-${id}/module-${lockNo}.ts":${now + DAY}`);
    parts.push(`{"id":${id},"name":"agent-${id}","state":"active","last_seen_ms":${now},"edit_count":${id % 13},"locked_paths":{${paths.join(',')}}}`);
  }
  const file = path.join(dir, '.harn', 'agents.json');
  // The workspace's own agent timeout (HARN_AGENT_TIMEOUT only sets that of agents a call creates): the
  // fixture's agents must outlive the bench, or a call would reap all of them and rewrite the file.
  fs.writeFileSync(file, `{"next_id":${agents + 1},"agents":[${parts.join(',')}],"harn":{"settings":{"agent_timeout_ms":${3650 * DAY}}}}\n`);
  return { dir, file, bytes: fs.statSync(file).size };
}

const cli = (...args) => [NODE, BIN, ...args];
const parseFloor = (file) => [NODE, path.join(ROOT, 'bench', 'floors', 'read-parse.cjs'), file];
const writeFloor = (file) => [NODE, path.join(ROOT, 'bench', 'floors', 'durable-write.cjs'), file];

const results = { machine: machine(), rounds: ROUNDS, targets: [], calls: [], contention: [], growth: [] };

/**
 * A call against its floor, run alternately (call, floor, call, floor, ...): the median of the per-pair
 * ratios, so drift on a shared machine moves both sides of each ratio alike.
 */
function paired(cmd, floor, cwd, rounds) {
  timeOnce(cmd, cwd);
  timeOnce(floor, cwd);
  const a = [];
  const b = [];
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const x = timeOnce(cmd, cwd);
    const y = timeOnce(floor, cwd);
    a.push(x);
    b.push(y);
    ratios.push(x / y);
  }
  return { ms: ms(median(a)), floor_ms: ms(median(b)), ratio: +median(ratios).toFixed(2) };
}

const loadAverage = () => os.loadavg()[0].toFixed(2);

// 0. The targets of issue 15, each call paired with its floor.
{
  const PAIRS_N = QUICK ? 5 : 11;
  for (const [agents, locks] of QUICK ? [[0, 0]] : [[0, 0], [10_000, 100_000]]) {
    const fx = fixture(agents, locks);
    const empty = agents === 0;
    const workspace = empty ? 'empty workspace' : `${agents} agents / ${locks} locks`;
    if (empty) fs.mkdirSync(path.join(fx.dir, '.harn'));
    const state = path.join(fx.dir, '.harn', 'agents.json');
    const node0 = [NODE, '-e', '0'];
    const cases = empty
      ? [
          ['holder', cli('holder', 'src/free.ts'), 'node -e 0', node0, 1.15],
          ['status --json', cli('status', '--json'), 'node -e 0', node0, 1.15],
          ['check', cli('check', 'src/free.ts'), 'node -e 0', node0, 1.15],
          ['lock (a write)', cli('lock', 'src/a.ts', '--agent', '1'), 'durable write', writeFloor(state), 1.15],
        ]
      : [
          ['holder', cli('holder', 'src/free.ts'), 'read + parse', parseFloor(state), 1.3],
          ['status --json', cli('status', '--json'), 'read + parse', parseFloor(state), 1.5],
          ['lock (a write)', cli('lock', 'src/pkg-1/module-0.ts', '--agent', '1'), 'read + parse + durable write', writeFloor(state), 1.5],
        ];
    for (const [call, argv, floorName, floor, limit] of cases) {
      const load = loadAverage();
      const t = paired(argv, floor, fx.dir, PAIRS_N);
      results.targets.push({ workspace, call, floor: floorName, target: `≤ ${limit}`, ratio: t.ratio, met: t.ratio <= limit ? 'met' : 'MISSED', ms: t.ms, floor_ms: t.floor_ms, pairs: PAIRS_N, load });
    }
    if (!empty) {
      // What status --json's output alone costs: plain Node doing only read, parse, pretty JSON, write
      // (bench/floors/status-json.cjs) against read + parse; and the call against that.
      const load = loadAverage();
      const output = paired([NODE, path.join(ROOT, 'bench', 'floors', 'status-json.cjs'), state], parseFloor(state), fx.dir, PAIRS_N);
      const call = paired(cli('status', '--json'), [NODE, path.join(ROOT, 'bench', 'floors', 'status-json.cjs'), state], fx.dir, PAIRS_N);
      results.status_json_floor = { workspace, plain_node_vs_read_parse: output.ratio, call_vs_plain_node: call.ratio, plain_node_ms: output.ms, read_parse_ms: output.floor_ms, call_ms: call.ms, pairs: PAIRS_N, load };
    }
    fs.rmSync(fx.dir, { recursive: true, force: true });
  }
}

function machine() {
  const cpus = os.cpus();
  return { node: process.version, cpus: cpus.length, cpu_model: cpus[0]?.model ?? 'unknown', memory_gib: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString() };
}

// 0c. The agent hooks (docs/agents.md): a hook call is a CLI call. A claiming PreToolUse (an edit) against the
// durable-write floor; a read-only one (a shell command that is no git operation) against starting node; on an
// empty workspace and with 20 sessions holding 50 claims each.
{
  const PAIRS_N = QUICK ? 5 : 11;
  const self = fs.readFileSync('/proc/self/stat', 'latin1');
  const start = Number(self.slice(self.lastIndexOf(')') + 2).split(' ')[19]);
  const host = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  for (const sessions of QUICK ? [0] : [0, 20]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harn-bench-hooks-'));
    fs.mkdirSync(path.join(dir, '.harn'));
    const state = path.join(dir, '.harn', 'agents.json');
    if (sessions > 0) {
      const now = Date.now();
      const agents = [];
      const meta = [];
      for (let id = 1; id <= sessions; id++) {
        const paths = Array.from({ length: 50 }, (_, i) => `"src/s${id}/file-${i}.ts":${now + 30 * DAY}`);
        agents.push(`{"id":${id},"name":"claude-code s${id}","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{${paths.join(',')}}}`);
        // Each session's process is this bench's, alive while it runs: no call ends them.
        meta.push(`"${id}":{"timeout_ms":14400000,"process":{"pid":${process.pid},"start":${start}},"session":{"client":"claude-code","id":"s${id}","host":"${host}"}}`);
      }
      fs.writeFileSync(state, `{"next_id":${sessions + 1},"agents":[${agents.join(',')}],"harn":{"agents":{${meta.join(',')}}}}\n`);
    }
    const payload = (name, body) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, JSON.stringify({ session_id: 'bench-session', transcript_path: '/tmp/t.jsonl', cwd: dir, ...body }));
      return file;
    };
    const claim = payload('claim.json', { hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { file_path: path.join(dir, 'src/new.ts'), content: 'x' } });
    const readOnly = payload('bash.json', { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'npm test' } });
    // stdin from a file: a fresh descriptor each run, as Claude Code pipes each hook its payload.
    const hook = (file) => [...cli('agent-hook', 'claude-code'), { stdin: file }];
    const workspace = sessions === 0 ? 'empty workspace' : `${sessions} sessions / ${sessions * 50} claims`;
    const limit = sessions === 0 ? 1.15 : 1.3;
    for (const [call, argv, floorName, floor] of [
      ['agent-hook PreToolUse Write (claims)', hook(claim), 'durable write', writeFloor(state)],
      ['agent-hook PreToolUse Bash (read-only)', hook(readOnly), 'node -e 0', [NODE, '-e', '0']],
    ]) {
      const load = loadAverage();
      const t = paired(argv, floor, dir, PAIRS_N);
      results.targets.push({ workspace, call, floor: floorName, target: `≤ ${limit}`, ratio: t.ratio, met: t.ratio <= limit ? 'met' : 'MISSED', ms: t.ms, floor_ms: t.floor_ms, pairs: PAIRS_N, load });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// 0b. What the V8 code cache is worth: the CLI against a copy of itself without dist/harn-agents.cjs.v8cache.
{
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'harn-bench-nocache-'));
  fs.cpSync(path.join(ROOT, 'bin'), path.join(copy, 'bin'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.rmSync(path.join(copy, 'dist', 'harn-agents.cjs.v8cache'));
  const fx = fixture(0, 0);
  const load = loadAverage();
  const t = paired(cli('holder', 'src/free.ts'), [NODE, path.join(copy, 'bin', 'harn-agents.js'), 'holder', 'src/free.ts'], fx.dir, QUICK ? 5 : 21);
  results.code_cache = { call: 'holder (empty workspace)', with_cache_ms: t.ms, without_cache_ms: t.floor_ms, ratio: t.ratio, pairs: QUICK ? 5 : 21, load };
  fs.rmSync(copy, { recursive: true, force: true });
  fs.rmSync(fx.dir, { recursive: true, force: true });
}

if (TARGETS_ONLY) {
  const c = results.code_cache;
  console.log(`code cache: ${c.call} with it ${c.ratio} × without (${c.with_cache_ms} vs ${c.without_cache_ms} ms, load ${c.load})`);
  for (const t of results.targets) console.log(`${t.workspace}, ${t.call}: ${t.ratio} × ${t.floor} (target ${t.target}: ${t.met}; ${t.ms} vs ${t.floor_ms} ms, load ${t.load})`);
  const s = results.status_json_floor;
  if (s) console.log(`${s.workspace}, status --json in plain Node (read, parse, pretty JSON, write): ${s.plain_node_vs_read_parse} × read + parse; the call ${s.call_vs_plain_node} × that (load ${s.load})`);
  process.exit(0);
}

// 1. One call's cost against both floors.
const SIZES = QUICK ? [[0, 0], [1_000, 10_000]] : [[0, 0], [1_000, 10_000], [10_000, 100_000]];
for (const [agents, locks] of SIZES) {
  const fx = fixture(agents, locks);
  const label = agents === 0 ? 'empty workspace' : `${agents} agents / ${locks} locks (${(fx.bytes / 1e6).toFixed(2)} MB)`;
  const held = agents === 0 ? 'src/a.ts' : 'src/pkg-1/module-0.ts';
  // lock + release of a fresh path by agent 1: two calls, compared with two of each floor.
  const lockPair = [NODE, '-e', `
    const { spawnSync } = require('node:child_process');
    spawnSync(${JSON.stringify(NODE)}, [${JSON.stringify(BIN)}, 'lock', 'bench/pair.ts', '--agent', '1'], { stdio: 'ignore' });
    spawnSync(${JSON.stringify(NODE)}, [${JSON.stringify(BIN)}, 'release', 'bench/pair.ts', '--agent', '1'], { stdio: 'ignore' });`];
  const floorPair = (inner) => [NODE, '-e', `
    const { spawnSync } = require('node:child_process');
    spawnSync(${JSON.stringify(inner[0])}, ${JSON.stringify(inner.slice(1))}, { stdio: 'ignore' });
    spawnSync(${JSON.stringify(inner[0])}, ${JSON.stringify(inner.slice(1))}, { stdio: 'ignore' });`];
  const nodeFloor = [NODE, '-e', '0'];
  const readFloor = fx.file ? parseFloor(fx.file) : nodeFloor;
  const commands = {
    'holder (free path)': cli('holder', 'src/free.ts'),
    'holder (held path)': cli('holder', held),
    status: cli('status'),
    'status --json': cli('status', '--json'),
  };
  for (const [name, argv] of Object.entries(commands)) {
    const t = interleaved({ cmd: argv, node: nodeFloor, parse: readFloor }, fx.dir);
    results.calls.push({ workspace: label, command: name, ms: ms(t.cmd), node_ms: ms(t.node), parse_ms: ms(t.parse), vs_node: +(t.cmd / t.node).toFixed(2), vs_parse: +(t.cmd / t.parse).toFixed(2) });
  }
  const pair = interleaved({ cmd: lockPair, node: floorPair(nodeFloor), parse: floorPair(readFloor) }, fx.dir, Math.max(5, Math.round(ROUNDS / 2)));
  results.calls.push({ workspace: label, command: 'lock + release', ms: ms(pair.cmd), node_ms: ms(pair.node), parse_ms: ms(pair.parse), vs_node: +(pair.cmd / pair.node).toFixed(2), vs_parse: +(pair.cmd / pair.parse).toFixed(2) });
  fs.rmSync(fx.dir, { recursive: true, force: true });
}

// 2. Contention: P processes each doing K lock/release pairs on their own path.
const PROCS = QUICK ? [1, 4] : [1, 2, 4, 8, 16];
const PAIRS = QUICK ? 3 : 10;
function runCli(args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(NODE, [BIN, ...args], { cwd, env: { ...ENV, HARN_DEBUG: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, waits: [...err.matchAll(/state lock wait ([\d.]+)ms/g)].map((m) => Number(m[1])) }));
  });
}
let single = 0;
for (const p of PROCS) {
  const fx = fixture(0, 0);
  fs.mkdirSync(path.join(fx.dir, '.harn'));
  let longest = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: p }, async (_, w) => {
      for (let k = 0; k < PAIRS; k++) {
        for (const args of [['lock', `src/p${w}.ts`, '--agent', String(w + 1)], ['release', `src/p${w}.ts`, '--agent', String(w + 1)]]) {
          const r = await runCli(args, fx.dir);
          if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}`);
          longest = Math.max(longest, ...r.waits);
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cps = (p * PAIRS * 2) / seconds;
  if (p === 1) single = cps;
  results.contention.push({ processes: p, commands: p * PAIRS * 2, commands_per_second: +cps.toFixed(1), vs_one_process: +(cps / single).toFixed(2), longest_state_lock_wait_ms: ms(longest) });
  fs.rmSync(fx.dir, { recursive: true, force: true });
}

// 3. Cost growth: holder and lock as the registry grows.
const GROWTH = QUICK ? [1, 1_000, 10_000] : [1, 10, 100, 1_000, 10_000, 100_000];
for (const locks of GROWTH) {
  const fx = fixture(Math.max(1, Math.floor(locks / 10)), locks);
  const t = interleaved(
    { holder: cli('holder', 'src/free.ts'), lock: cli('lock', 'src/pkg-1/module-0.ts', '--agent', '1'), node: [NODE, '-e', '0'] },
    fx.dir,
    QUICK ? 3 : 9,
  );
  results.growth.push({ locks, mb: +(fx.bytes / 1e6).toFixed(3), holder_ms: ms(t.holder), lock_ms: ms(t.lock), node_ms: ms(t.node), holder_extra_ms_per_mb: fx.bytes > 1e5 ? +((t.holder - t.node) / (fx.bytes / 1e6)).toFixed(1) : null });
  fs.rmSync(fx.dir, { recursive: true, force: true });
}

// 4. Long-lived callers: an MCP lock + release round trip over stdio, and the same pair through the library.
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
const { openRegistry } = await import(path.join(ROOT, 'dist', 'api.js'));
const CALLS = QUICK ? 20 : 200;
const summary = (xs) => ({ median_ms: +median(xs).toFixed(2), worst_ms: +Math.max(...xs).toFixed(2), calls: xs.length });
results.long_lived = [];
for (const [agents, locks] of QUICK ? [[0, 0]] : [[0, 0], [1_000, 10_000]]) {
  const fx = fixture(agents, locks);
  const label = agents === 0 ? 'empty workspace' : `${agents} agents / ${locks} locks`;
  const transport = new StdioClientTransport({ command: NODE, args: [BIN, 'mcp', '--name', 'bench'], cwd: fx.dir, env: ENV, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  await client.callTool({ name: 'whoami', arguments: {} });
  const mcp = [];
  for (let i = 0; i < CALLS; i++) {
    const start = process.hrtime.bigint();
    await client.callTool({ name: 'lock', arguments: { paths: ['bench/mcp.ts'] } });
    await client.callTool({ name: 'release', arguments: { paths: ['bench/mcp.ts'] } });
    mcp.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await client.close();
  const registry = openRegistry({ cwd: fx.dir, agentTimeout: '3650d' });
  const { id } = await registry.register('bench-lib');
  const lib = [];
  for (let i = 0; i < CALLS; i++) {
    const start = process.hrtime.bigint();
    await registry.lock(['bench/lib.ts'], { agent: id });
    await registry.release(['bench/lib.ts'], { agent: id });
    lib.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  results.long_lived.push({ workspace: label, via: 'MCP (stdio) lock + release', ...summary(mcp) });
  results.long_lived.push({ workspace: label, via: 'library lock + release', ...summary(lib) });
  fs.rmSync(fx.dir, { recursive: true, force: true });
}

// 5. The PostgreSQL store (when a server answers): one call beside the file store, and contention.
const PG_URL = process.env.HARN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// The probe uses a namespace of its own: a shared server may hold anything under a fixed name.
const probe = spawnSync(NODE, [BIN, '--store', PG_URL, '--namespace', `bench-probe-${process.pid}`, 'status'], { env: ENV, encoding: 'utf8' });
const pgUp = probe.status === 0;
if (!pgUp) console.error(`PostgreSQL store not measured: ${probe.stderr.trim() || `exit ${probe.status}`}`);
results.postgres = { url: PG_URL.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'), available: pgUp, calls: [], contention: [] };
if (pgUp) {
  const fx = fixture(0, 0);
  fs.mkdirSync(path.join(fx.dir, '.harn'));
  const pg = (...args) => cli('--store', PG_URL, '--namespace', `bench-${process.pid}`, ...args);
  for (const [name, file, database] of [
    ['holder', cli('holder', 'src/free.ts'), pg('holder', 'src/free.ts')],
    ['lock', cli('lock', 'src/x.ts', '--agent', '1'), pg('lock', 'src/x.ts', '--agent', '1')],
    ['status --json', cli('status', '--json'), pg('status', '--json')],
  ]) {
    // The default (a session borrowed from the session keeper) and a session of the call's own.
    const t = interleaved({ file, database, direct: { argv: database, env: { HARN_PG_KEEPER: 'off' } }, node: [NODE, '-e', '0'] }, fx.dir);
    results.postgres.calls.push({
      command: name,
      file_ms: ms(t.file),
      postgres_ms: ms(t.database),
      postgres_vs_file: +(t.database / t.file).toFixed(2),
      own_session_ms: ms(t.direct),
      own_session_vs_file: +(t.direct / t.file).toFixed(2),
      node_ms: ms(t.node),
    });
  }
  // What the server takes to start a session, from a C client: the floor of a call with a session of its own.
  const script = path.join(fx.dir, 'select-1.sql');
  fs.writeFileSync(script, 'SELECT 1;\n');
  const pgbenchC = spawnSync('pgbench', ['-C', '-n', '-f', script, '-t', QUICK ? '20' : '100', PG_URL], { encoding: 'utf8' });
  const connectMs = /average connection time = ([\d.]+) ms/.exec(pgbenchC.stdout ?? '')?.[1];
  results.postgres.session_start_ms = connectMs === undefined ? null : Number(connectMs);
  let pgSingle = 0;
  for (const p of PROCS) {
    const ns = `bench-contention-${process.pid}-${p}`;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: p }, async (_, w) => {
        for (let k = 0; k < PAIRS; k++) {
          for (const args of [['lock', `src/p${w}.ts`, '--agent', String(w + 1)], ['release', `src/p${w}.ts`, '--agent', String(w + 1)]]) {
            const r = await runCli(['--store', PG_URL, '--namespace', ns, ...args], fx.dir);
            if (r.code !== 0) throw new Error(`postgres ${args.join(' ')} exited ${r.code}`);
          }
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cps = (p * PAIRS * 2) / seconds;
    if (p === 1) pgSingle = cps;
    results.postgres.contention.push({ processes: p, commands: p * PAIRS * 2, commands_per_second: +cps.toFixed(1), vs_one_process: +(cps / pgSingle).toFixed(2) });
  }
  fs.rmSync(fx.dir, { recursive: true, force: true });
}

// 6. The PostgreSQL store from long-lived library clients (bench/pg.mjs): this build, and with
// HARN_BENCH_COMPARE_DIST=<an older build's dist/> that one too, run after it in the same conditions.
if (pgUp) {
  results.postgres.long_lived = [];
  const dists = [path.join(ROOT, 'dist'), ...(process.env.HARN_BENCH_COMPARE_DIST ? [process.env.HARN_BENCH_COMPARE_DIST] : [])];
  for (const dist of dists) {
    const r = spawnSync(NODE, [path.join(ROOT, 'bench', 'pg.mjs'), '--dist', dist, '--url', PG_URL, ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', env: ENV });
    if (r.status !== 0) throw new Error(`bench/pg.mjs exited ${r.status}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    if (out.race.two_holders !== 0 || out.race.left_held) throw new Error(`two holders or a lost release: ${JSON.stringify(out.race)}`);
    results.postgres.long_lived.push(out);
  }
}

// 7. A year of CI jobs: every job registers and never unregisters (in-process, through the library, with an
// injected clock). Crashed agents holding nothing are dropped by writes after the workspace's `retention`
// (7 days by default), so the state file and each call's cost stay flat; with retention 0 (the seed's way) they grow.
{
  const JOBS = QUICK ? 3_600 : 36_000;
  const YEAR_MS = 365 * DAY;
  const fx = fixture(0, 0);
  let now = Date.UTC(2026, 0, 1);
  const registry = openRegistry({ cwd: fx.dir, clock: () => now });
  const statePath = registry.workspace.statePath;
  const windows = [];
  const WINDOW = JOBS / 10; // ten windows: start, middle and end are read from them
  let window = { times: [], firstDay: 0 };
  for (let job = 0; job < JOBS; job++) {
    now += Math.round(YEAR_MS / JOBS);
    const start = process.hrtime.bigint();
    await registry.register(`ci-job-${job}`);
    window.times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if ((job + 1) % WINDOW === 0) {
      const { size } = fs.statSync(statePath);
      const agents = JSON.parse(fs.readFileSync(statePath, 'utf8')).agents.length;
      windows.push({ jobs: job + 1, day: Math.round((job + 1) * (365 / JOBS)), state_bytes: size, agents, median_ms: +median(window.times).toFixed(2), worst_ms: +Math.max(...window.times).toFixed(2) });
      window = { times: [] };
    }
  }
  fs.rmSync(fx.dir, { recursive: true, force: true });
  // The same year without retention ends with every job's record: one register call on that state.
  const kept = fixture(0, 0);
  fs.mkdirSync(path.join(kept.dir, '.harn'));
  const parts = [];
  for (let id = 1; id <= JOBS; id++) parts.push(`{"id":${id},"name":"ci-job-${id - 1}","state":"crashed","last_seen_ms":${now - YEAR_MS + id * Math.round(YEAR_MS / JOBS)},"edit_count":0,"locked_paths":{}}`);
  fs.writeFileSync(path.join(kept.dir, '.harn', 'agents.json'), `{"next_id":${JOBS + 1},"agents":[${parts.join(',')}],"harn":{"settings":{"retention_ms":0}}}\n`);
  const forever = openRegistry({ cwd: kept.dir, clock: () => now });
  const keptTimes = [];
  for (let i = 0; i < 20; i++) {
    now += 1000;
    const start = process.hrtime.bigint();
    await forever.register('one-more');
    keptTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const keptBytes = fs.statSync(path.join(kept.dir, '.harn', 'agents.json')).size;
  fs.rmSync(kept.dir, { recursive: true, force: true });
  results.year = { jobs: JOBS, days: 365, windows, without_retention: { agents: JOBS + 20, state_bytes: keptBytes, register_median_ms: +median(keptTimes).toFixed(2) } };
}

// Report.
const table = (rows, cols) => {
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
};
console.log(`harn-agents bench — ${results.machine.cpu_model}, ${results.machine.cpus} cores, ${results.machine.memory_gib} GiB, node ${results.machine.node}, ${ROUNDS} rounds\n`);
console.log('Targets: each call alternately with its floor, median of the per-pair ratios (load: 1-minute load average):');
console.log(table(results.targets, ['workspace', 'call', 'floor', 'target', 'ratio', 'met', 'ms', 'floor_ms', 'pairs', 'load']));
if (results.status_json_floor) {
  const s = results.status_json_floor;
  console.log(`\nstatus --json (${s.workspace}) in plain Node (read, parse, pretty JSON, write): ${s.plain_node_vs_read_parse} × read + parse; the call ${s.call_vs_plain_node} × that`);
}
console.log(`\nV8 code cache: ${results.code_cache.call} with it, ${results.code_cache.ratio} × the same call without it (${results.code_cache.pairs} pairs)`);
console.log('\nOne call (median ms) against node -e 0 and against reading + parsing the same file:');
console.log(table(results.calls, ['workspace', 'command', 'ms', 'node_ms', 'parse_ms', 'vs_node', 'vs_parse']));
console.log('\nContention: P processes, each doing lock/release pairs on its own path:');
console.log(table(results.contention, ['processes', 'commands', 'commands_per_second', 'vs_one_process', 'longest_state_lock_wait_ms']));
console.log('\nCost growth with the registry:');
console.log(table(results.growth, ['locks', 'mb', 'holder_ms', 'lock_ms', 'node_ms', 'holder_extra_ms_per_mb']));
console.log('\nLong-lived callers (no process start per call): a lock + release pair:');
console.log(table(results.long_lived, ['workspace', 'via', 'median_ms', 'worst_ms', 'calls']));
console.log(`\nA year of CI jobs (${results.year.jobs} register-and-forget jobs over 365 simulated days, in-process, default retention 7 days), per tenth of the year:`);
console.log(table(results.year.windows, ['jobs', 'day', 'state_bytes', 'agents', 'median_ms', 'worst_ms']));
const wr = results.year.without_retention;
console.log(`Without retention (0, as the seed): ${wr.agents} records, ${wr.state_bytes} bytes, register ${wr.register_median_ms} ms median`);
if (results.postgres.available) {
  console.log(`\nPostgreSQL store (${results.postgres.url}): one call beside the file store (median ms):`);
  console.log(table(results.postgres.calls, ['command', 'file_ms', 'postgres_ms', 'postgres_vs_file', 'own_session_ms', 'own_session_vs_file', 'node_ms']));
  console.log(`(postgres: a session borrowed from the session keeper, the default; own session: HARN_PG_KEEPER=off. The server starts a session in ${results.postgres.session_start_ms ?? '?'} ms for pgbench -C.)`);
  console.log('\nPostgreSQL store contention: P processes, each doing lock/release pairs on its own path:');
  console.log(table(results.postgres.contention, ['processes', 'commands', 'commands_per_second', 'vs_one_process']));
  for (const run of results.postgres.long_lived ?? []) {
    console.log(`\nPostgreSQL store, long-lived library clients (${run.dist}; load ${run.load_before[0]} -> ${run.load_after[0]}): lock + release on distinct paths, beside pgbench -N (the same clients, server and run)`);
    const rows = run.namespaces.flatMap((n) => n.runs.map((x) => ({ namespace: n.namespace, ...x })));
    console.log(table(rows, ['namespace', 'clients', 'operations', 'ops_per_second', 'pgbench_tps', 'vs_pgbench', 'pair_median_ms', 'pair_worst_ms']));
    if (run.pgbench) console.log(`pgbench -N: ${run.pgbench}`);
    console.log(`race for one path: ${run.race.clients} clients x ${run.race.rounds} rounds, ${run.race.grants} grants, two holders: ${run.race.two_holders}, left held: ${run.race.left_held}`);
  }
} else {
  console.log(`\nPostgreSQL store: no server answered at ${results.postgres.url}; skipped`);
}
if (!QUICK) fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
