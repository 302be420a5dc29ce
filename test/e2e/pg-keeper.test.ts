import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, cliAsync, tempDir, type CliResult } from '../helpers/cli.js';
import { sliceLockKeys } from '../../src/store/pg-rows.js';

// The PostgreSQL session keeper (src/store/pg-keeper.ts), as a user gets it: real CLI processes, a real
// keeper process started by the first call, the real server. Each test has a runtime directory of its own
// (XDG_RUNTIME_DIR), so its keeper is its own; every keeper a test started is killed after the file.
const PG_URL = process.env.HARN_TEST_POSTGRES_URL;

const keepers = new Set<number>();
afterAll(() => {
  for (const pid of keepers) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A workspace, a runtime directory and a namespace of the test's own, and the CLI run in them with the keeper on. */
function setup(extraEnv: Record<string, string> = {}, url = PG_URL ?? '') {
  const ws = tempDir();
  const runtime = tempDir('harn-keeper-runtime-');
  fs.chmodSync(runtime, 0o700);
  const namespace = `keeper-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
  const env = { HARN_PG_KEEPER: 'on', HARN_DEBUG: '1', XDG_RUNTIME_DIR: runtime, ...extraEnv };
  const g = ['--store', url, '--namespace', namespace];
  const note = (r: CliResult): CliResult => {
    for (const m of r.stderr.matchAll(/session keeper: (?:started process|a session lent by process) (\d+)/g)) keepers.add(Number(m[1]));
    return r;
  };
  return {
    ws,
    runtime,
    namespace,
    run: (...args: string[]) => note(cli([...g, ...args], { cwd: ws, env })),
    runAsync: async (...args: string[]) => note(await cliAsync([...g, ...args], { cwd: ws, env })),
    runWith: (more: Record<string, string>, ...args: string[]) => note(cli([...g, ...args], { cwd: ws, env: { ...env, ...more } })),
    socketDir: path.join(runtime, `harn-agents-${process.getuid?.()}`),
  };
}

const keeperLine = (r: CliResult): string => r.stderr.split('\n').filter((l) => l.includes('session keeper:')).join(' | ');
const startedPid = (r: CliResult): number | undefined => Number(/started process (\d+)/.exec(r.stderr)?.[1]) || undefined;
const lentBy = (r: CliResult): number | undefined => Number(/a session lent by process (\d+)/.exec(r.stderr)?.[1]) || undefined;
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Wait (boundedly) until process `pid` has ended. */
async function untilGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
}

/**
 * The keeper the first call (`args`) started, and its socket (from the call's trace), once a call is served
 * by it.
 */
async function firstKeeper(s: ReturnType<typeof setup>, ...args: string[]): Promise<{ pid: number; socket: string }> {
  const first = s.run(...args);
  const pid = startedPid(first) ?? 0;
  const socket = /started process \d+ \((.+)\)/.exec(first.stderr)?.[1] ?? '';
  expect(pid, first.stderr).toBeGreaterThan(0);
  expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(pid);
  return { pid, socket };
}

/** Wait (boundedly) until a call is served by a keeper; its result. */
async function untilServed(run: () => CliResult): Promise<CliResult> {
  let last: CliResult | undefined;
  for (let i = 0; i < 100; i++) {
    last = run();
    if (lentBy(last)) return last;
    await sleep(50);
  }
  return last as CliResult;
}

describe.skipIf(!PG_URL)('the PostgreSQL session keeper', () => {
  it('the first call starts it; the next calls borrow its session, in one statement, without loading the pg client', async () => {
    const s = setup();
    const first = s.run('lock', 'src/a.ts', '--agent', '1');
    expect(first.code, first.stderr).toBe(0);
    expect(keeperLine(first)).toContain('no session keeper is running; connecting directly');
    const pid = startedPid(first);
    expect(pid, first.stderr).toBeGreaterThan(0);
    // The URL (a password, often) is in neither its arguments nor its environment: it is told it on its
    // standard input. It runs in /, not in the directory of the call that started it.
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain('postgres');
    expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain('postgres://');
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe('/');

    const served = await untilServed(() => s.run('holder', 'src/a.ts'));
    expect(lentBy(served), served.stderr).toBe(pid);
    expect(served.code).toBe(0);
    expect(served.stdout).toContain('src/a.ts: agent 1 (agent-1)');
    // A write through it: one statement, the native lock, and the pg client's bundle never read.
    const trace = spawnSync(process.execPath, ['--require', path.join(import.meta.dirname, '../helpers/trace-reads.cjs'), BIN, '--store', PG_URL ?? '', '--namespace', s.namespace, 'lock', 'src/b.ts', '--agent', '1'], {
      cwd: s.ws,
      env: cleanEnv({ HARN_PG_KEEPER: 'on', HARN_DEBUG: '1', XDG_RUNTIME_DIR: s.runtime }),
      encoding: 'utf8',
    });
    expect(trace.status, trace.stderr).toBe(0);
    expect(lentBy({ ...trace, code: trace.status, signal: null })).toBe(pid);
    expect(trace.stderr.split('\n').filter((l) => l.includes('debug: statement:'))).toHaveLength(1);
    expect(trace.stderr).toContain('lock natively: done');
    expect(trace.stderr).toContain('read: ');
    expect(trace.stderr).not.toContain('pg-direct.cjs');
    // What it wrote is there for a call with a session of its own.
    const direct = s.runWith({ HARN_PG_KEEPER: 'off' }, '--json', 'holder', 'src/b.ts');
    expect(keeperLine(direct)).toBe('');
    expect(JSON.parse(direct.stdout)[0].holders.map((h: { agent: { id: number } }) => h.agent.id)).toEqual([1]);
  });

  it('a keeper killed with SIGKILL, or stopped with SIGSTOP, is replaced; the calls meanwhile connect directly and succeed', async () => {
    const s = setup();
    const first = startedPid(s.run('register', 'editor')) ?? 0;
    expect(lentBy(await untilServed(() => s.run('lock', 'src/a.ts', '--agent', '1')))).toBe(first);

    process.kill(first, 'SIGKILL');
    await sleep(100);
    const afterKill = s.run('lock', 'src/b.ts', '--agent', '1');
    expect(afterKill.code, afterKill.stderr).toBe(0);
    expect(keeperLine(afterKill)).toContain('the session keeper is gone (its socket is left); connecting directly');
    const second = startedPid(afterKill) ?? 0;
    expect(second).toBeGreaterThan(0);
    expect(second).not.toBe(first);
    expect(lentBy(await untilServed(() => s.run('holder', 'src/b.ts')))).toBe(second);

    // Stopped: it accepts (the kernel does) but never answers. The call gives up on it after a bounded wait.
    process.kill(second, 'SIGSTOP');
    const started = Date.now();
    const afterStop = s.run('release', 'src/a.ts', '--agent', '1');
    expect(afterStop.code, afterStop.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(keeperLine(afterStop)).toContain('the session keeper did not answer within');
    const third = startedPid(afterStop) ?? 0;
    expect(third).toBeGreaterThan(0);
    expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(third);
    expect(JSON.parse(s.runWith({ HARN_PG_KEEPER: 'off' }, '--json', 'holder', 'src/a.ts', 'src/b.ts').stdout).map((h: { holders: unknown[] }) => h.holders.length)).toEqual([0, 1]);
    // The stopped one, let go again, finds its socket taken and ends when idle without removing the new one.
    process.kill(second, 'SIGCONT');
    process.kill(second, 'SIGTERM');
    await untilGone(second);
    expect(alive(second)).toBe(false);
    const last = s.run('holder', 'src/a.ts');
    expect(lentBy(last), last.stderr).toBe(third);
  });

  it('a call killed inside a transaction: the keeper ends that session, the server rolls it back, and nothing is held', async () => {
    const s = setup();
    const pid = startedPid(s.run('register', 'editor')) ?? 0;
    expect(lentBy(await untilServed(() => s.run('holder', 'src/x.ts')))).toBe(pid);
    // Hold the namespace exclusively (as a whole-registry writer does): the call's transaction waits for it,
    // with its BEGIN open. A pattern lock goes the usual way (BEGIN, the locks, load, write, COMMIT).
    const [classid, objid] = sliceLockKeys(s.namespace, [], []).namespace;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_advisory_lock($1, $2)', [classid, objid]);
      const call = s.runAsync('lock', 'src/**/*.ts', '--agent', '1');
      let waiting = 0;
      for (let i = 0; i < 200 && waiting === 0; i++) {
        const r = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::int::oid AND objid = $2::int::oid", [classid, objid]);
        waiting = r.rows[0].n;
        if (!waiting) await sleep(25);
      }
      if (waiting !== 1) throw new Error(`the call never waited: ${JSON.stringify(await call)}`);
      // Kill the CLI process itself (its pid: the child of cliAsync is not exposed, so find it by its arguments).
      const ps = spawnSync('pgrep', ['-f', '--', `${s.namespace} lock src/`], { encoding: 'utf8' });
      const pids = ps.stdout.split('\n').filter(Boolean).map(Number);
      expect(pids.length).toBe(1);
      process.kill(pids[0] as number, 'SIGKILL');
      const killed = await call;
      expect(killed.signal).toBe('SIGKILL');
      await admin.query('SELECT pg_advisory_unlock($1, $2)', [classid, objid]);
      // The keeper's session got the lock after the call was gone, inside the open transaction: it must be
      // ended, not lent again (its transaction would hold the namespace's lock for the next call).
      let idleInTransaction = -1;
      for (let i = 0; i < 100 && idleInTransaction !== 0; i++) {
        const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND application_name = 'harn-agents'");
        idleInTransaction = r.rows[0].n;
        if (idleInTransaction) await sleep(50);
      }
      expect(idleInTransaction).toBe(0);
    } finally {
      await admin.end();
    }
    const after = s.run('--json', 'holder', 'src/a/b.ts');
    expect(lentBy(after)).toBe(pid);
    expect(JSON.parse(after.stdout)[0].holders).toEqual([]);
    // And the keeper goes on lending sessions that work: a write, then a read of it.
    expect(s.run('lock', 'src/a/b.ts', '--agent', '1').code).toBe(0);
    expect(s.run('holder', 'src/a/b.ts').stdout).toContain('src/a/b.ts: agent 1 (editor)');
  });

  it("the server's answers come through it as through a call's own session: a lock wait that times out is exit 4", async () => {
    const s = setup({ HARN_STATE_LOCK_WAIT: '300ms' });
    const pid = startedPid(s.run('register', 'editor')) ?? 0;
    expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(pid);
    const key = sliceLockKeys(s.namespace, [], ['src/a.ts']).keys.find(([, exclusive]) => exclusive)?.[0];
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_advisory_lock($1::bigint)', [String(key)]);
      const r = s.run('lock', 'src/a.ts', '--agent', '1');
      expect(lentBy(r)).toBe(pid);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/timed out after 300ms \(HARN_STATE_LOCK_WAIT\) waiting for a lock in the PostgreSQL store .*: another client holds it; nothing was changed/);
    } finally {
      await admin.end();
    }
    expect(s.run('lock', 'src/a.ts', '--agent', '1').code).toBe(0);
  });

  it('is never used from a runtime directory that is a symlink, open to others, or another user\'s; nothing is created through it', () => {
    const s = setup();
    const elsewhere = tempDir('harn-keeper-elsewhere-');
    fs.chmodSync(elsewhere, 0o700);
    fs.symlinkSync(elsewhere, s.socketDir);
    // (holder exits 1 for a free path.)
    const viaLink = s.run('holder', 'src/a.ts');
    expect(viaLink.code, viaLink.stderr).toBe(1);
    expect(keeperLine(viaLink)).toContain('is a symbolic link');
    expect(startedPid(viaLink)).toBeUndefined();
    expect(fs.readdirSync(elsewhere)).toEqual([]);

    fs.unlinkSync(s.socketDir);
    fs.mkdirSync(s.socketDir, { mode: 0o700 });
    fs.chmodSync(s.socketDir, 0o777);
    const open = s.run('holder', 'src/a.ts');
    expect(open.code).toBe(1);
    expect(keeperLine(open)).toContain('is open to other users (mode 777)');
    expect(fs.readdirSync(s.socketDir)).toEqual([]);

    if (process.getuid?.() === 0) {
      fs.chmodSync(s.socketDir, 0o700);
      fs.chownSync(s.socketDir, 65534, 65534);
      const theirs = s.run('holder', 'src/a.ts');
      expect(theirs.code).toBe(1);
      expect(keeperLine(theirs)).toContain('belongs to another user (uid 65534)');
      expect(fs.readdirSync(s.socketDir)).toEqual([]);
    }
  });

  it('HARN_PG_KEEPER=off: no keeper, no directory; a value it does not know is exit 2', () => {
    const s = setup({ HARN_PG_KEEPER: 'off' });
    const r = s.run('holder', 'src/a.ts');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('src/a.ts: free\n');
    expect(keeperLine(r)).toBe('');
    expect(fs.existsSync(s.socketDir)).toBe(false);
    const bad = s.runWith({ HARN_PG_KEEPER: 'yes please' }, 'holder', 'src/a.ts');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("harn-agents: HARN_PG_KEEPER must be on or off (got 'yes please')");
  });

  it('ends on its own once idle, removing its socket', async () => {
    const s = setup({ HARN_PG_KEEPER_IDLE_MS: '1500' });
    const pid = startedPid(s.run('holder', 'src/a.ts')) ?? 0;
    expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(pid);
    for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
    expect(alive(pid)).toBe(false);
    expect(fs.readdirSync(s.socketDir)).toEqual([]);
  });

  it('serves only calls that would log in as its own role: a URL without a user is $USER\'s', async () => {
    const url = new URL(PG_URL ?? '');
    const user = decodeURIComponent(url.username) || 'postgres';
    url.username = '';
    const s = setup({ USER: user }, url.toString());
    const pid = startedPid(s.run('holder', 'src/a.ts')) ?? 0;
    expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(pid);
    // Another user, the same URL: a session of the first role would answer for it. It must get its own.
    const other = s.runWith({ USER: 'harn_keeper_no_such_role' }, 'holder', 'src/a.ts');
    expect(lentBy(other), other.stderr).toBeUndefined();
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('harn_keeper_no_such_role');
  });

  it('a keeper slow to open a session (a server slow to accept) is waited for, not replaced', async () => {
    // A proxy that holds each new connection 1.5 s before passing it on: longer than a call waits for a
    // keeper to answer at all (1 s), as a loaded server or a far one can be.
    const target = new URL(PG_URL ?? '');
    const proxy = net.createServer((inbound) => {
      inbound.pause();
      setTimeout(() => {
        const outbound = net.createConnection(Number(target.port || 5432), target.hostname);
        inbound.pipe(outbound).pipe(inbound);
        inbound.resume();
        const close = () => {
          inbound.destroy();
          outbound.destroy();
        };
        inbound.on('error', close);
        outbound.on('error', close);
        inbound.on('close', close);
        outbound.on('close', close);
      }, 1_500);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const slow = new URL(PG_URL ?? '');
      slow.port = String((proxy.address() as net.AddressInfo).port);
      const s = setup({}, slow.toString());
      // (Calls run without blocking: the proxy runs in this process.)
      const first = await s.runAsync('holder', 'src/a.ts');
      const pid = startedPid(first) ?? 0;
      expect(pid, first.stderr).toBeGreaterThan(0);
      // The keeper has no session yet: it acknowledges at once, then opens one (1.5 s), and lends it.
      let second = await s.runAsync('holder', 'src/a.ts');
      for (let i = 0; i < 20 && !lentBy(second) && keeperLine(second).includes('no session keeper is running'); i++) {
        await sleep(100);
        second = await s.runAsync('holder', 'src/a.ts');
      }
      expect(keeperLine(second)).not.toContain('did not answer');
      expect(lentBy(second), second.stderr).toBe(pid);
      expect(alive(pid)).toBe(true);
    } finally {
      proxy.close();
    }
  });

  it('holds no descriptor its starter inherited: a pipe the starting call was given ends when the call does', async () => {
    const s = setup();
    // fd 20 of the call is a pipe, not close-on-exec (as `cmd 20>&1 | cat` gives one): the keeper it starts
    // must not keep it, or the reader would wait for the keeper to end.
    // (Through bash, as `cmd 20>&3`: fd 20 without close-on-exec. Node marks its low descriptors
    // close-on-exec when it starts, up to the first gap past 15, so only a high one reaches a child.)
    const child = spawn('bash', ['-c', 'exec "$0" "$@" 20>&3 3>&-', process.execPath, BIN, '--store', PG_URL ?? '', '--namespace', s.namespace, 'holder', 'src/a.ts'], {
      cwd: s.ws,
      env: cleanEnv({ HARN_PG_KEEPER: 'on', HARN_DEBUG: '1', XDG_RUNTIME_DIR: s.runtime }),
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const extra = child.stdio[3] as NodeJS.ReadableStream;
    const ended = new Promise<boolean>((resolve) => {
      extra.on('end', () => resolve(true));
      extra.on('close', () => resolve(true));
      extra.resume();
      setTimeout(() => resolve(false), 10_000);
    });
    await new Promise((resolve) => child.on('close', resolve));
    const pid = Number(/started process (\d+)/.exec(stderr)?.[1]);
    expect(pid, stderr).toBeGreaterThan(0);
    keepers.add(pid);
    expect(await ended).toBe(true);
    expect(alive(pid)).toBe(true);
  });

  it('something that is not a socket under the socket\'s name is left alone; calls connect directly', async () => {
    const s = setup();
    const { pid, socket } = await firstKeeper(s, 'holder', 'src/a.ts');
    process.kill(pid, 'SIGKILL');
    await untilGone(pid);
    fs.unlinkSync(socket);
    expect(spawnSync('mkfifo', [socket]).status).toBe(0);
    for (let i = 0; i < 2; i++) {
      const r = s.run('holder', 'src/a.ts');
      expect(r.code, r.stderr).toBe(1);
      expect(keeperLine(r)).toContain(`none started: ${socket} is not a socket; it is left alone`);
    }
    expect(fs.lstatSync(socket).isFIFO()).toBe(true);
  });

  it('the MCP server keeps its own connection: it neither borrows from a keeper nor starts one', async () => {
    const s = setup();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, '--store', PG_URL ?? '', '--namespace', s.namespace, 'mcp', '--name', 'keeper-test'],
      cwd: s.ws,
      env: cleanEnv({ HARN_PG_KEEPER: 'on', HARN_DEBUG: '1', XDG_RUNTIME_DIR: s.runtime }) as Record<string, string>,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'keeper-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'status', arguments: {} });
      expect(result.isError ?? false).toBe(false);
    } finally {
      await client.close();
    }
    expect(stderr).toContain('debug: statement:');
    expect(stderr).not.toContain('session keeper');
    expect(fs.existsSync(s.socketDir)).toBe(false);
  });

  it('a keeper whose name another took over finishes the calls it serves; a touch of its socket changes nothing', async () => {
    const s = setup({ HARN_STATE_LOCK_WAIT: '20s' });
    const { pid: k1, socket } = await firstKeeper(s, 'register', 'editor');
    // Touched (its time changes, not its inode): still its own name, still serving.
    const touched = new Date(Date.now() + 5_000);
    fs.utimesSync(socket, touched, touched);
    await sleep(2_500);
    expect(lentBy(s.run('holder', 'src/a.ts'))).toBe(k1);
    // A call through K1 waits on the namespace's lock; K1 is stopped; a call replaces it by K2; K1 resumes.
    const [classid, objid] = sliceLockKeys(s.namespace, [], []).namespace;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_advisory_lock($1, $2)', [classid, objid]);
      const waiting = s.runAsync('lock', 'src/**/*.ts', '--agent', '1');
      for (let i = 0; i < 200; i++) {
        const r = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::int::oid AND objid = $2::int::oid", [classid, objid]);
        if (r.rows[0].n > 0) break;
        await sleep(25);
      }
      process.kill(k1, 'SIGSTOP');
      const replacing = s.run('holder', 'src/b.ts');
      expect(keeperLine(replacing)).toContain('did not answer');
      const k2 = startedPid(replacing) ?? 0;
      expect(lentBy(await untilServed(() => s.run('holder', 'src/b.ts')))).toBe(k2);
      process.kill(k1, 'SIGCONT');
      // K1 finds its name taken (it checks every 2 s) and must not end while it serves the waiting call.
      await sleep(3_000);
      await admin.query('SELECT pg_advisory_unlock($1, $2)', [classid, objid]);
      const done = await waiting;
      expect(lentBy(done)).toBe(k1);
      expect(done.code, done.stderr).toBe(0);
      await untilGone(k1);
      expect(alive(k1)).toBe(false);
      expect(lentBy(s.run('holder', 'src/a.ts'))).toBe(k2);
    } finally {
      await admin.end();
    }
  });

  it("a start's mark left by a call that is gone, or dated in the future, does not keep a keeper from starting", async () => {
    const s = setup();
    const { pid, socket } = await firstKeeper(s, 'holder', 'src/a.ts');
    process.kill(pid, 'SIGKILL');
    await untilGone(pid);
    for (const mark of [{ pid: 2 ** 22 + 12_345, at: new Date() }, { pid: process.pid, at: new Date(Date.now() + 3_600_000) }]) {
      fs.writeFileSync(`${socket}.starting`, String(mark.pid));
      fs.utimesSync(`${socket}.starting`, mark.at, mark.at);
      const r = s.run('holder', 'src/a.ts');
      expect(r.code, r.stderr).toBe(1);
      const next = startedPid(r);
      expect(next, r.stderr).toBeGreaterThan(0);
      expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(next);
      process.kill(next as number, 'SIGKILL');
      await untilGone(next as number);
    }
  });

  it("a changed password file is another keeper's: sessions logged in with the old one are not lent", async () => {
    const home = tempDir('harn-keeper-home-');
    const url = new URL(PG_URL ?? '');
    const pgpass = path.join(home, '.pgpass');
    fs.writeFileSync(pgpass, `${url.hostname}:${url.port || 5432}:*:${decodeURIComponent(url.username) || 'postgres'}:first\n`, { mode: 0o600 });
    const s = setup({ HOME: home });
    const pid = startedPid(s.run('holder', 'src/a.ts')) ?? 0;
    expect(lentBy(await untilServed(() => s.run('holder', 'src/a.ts')))).toBe(pid);
    fs.writeFileSync(pgpass, `${url.hostname}:${url.port || 5432}:*:${decodeURIComponent(url.username) || 'postgres'}:second-and-longer\n`, { mode: 0o600 });
    const after = s.run('holder', 'src/a.ts');
    expect(lentBy(after), after.stderr).toBeUndefined();
    expect(keeperLine(after)).toContain('no session keeper is running');
  });
});
