import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, readState, tempDir, type CliResult } from '../helpers/cli.js';

// Real fake clocks: libfaketime (Debian's `faketime`, installed by .ci/run) shifts the clock of one process
// and its children (Date.now() in node included) but not the kernel's, so file mtimes stay real, exactly as
// when one machine's process has a wrong clock. In CI (CI=true, or HARN_REQUIRE_FAKETIME set by .ci/run) a
// missing faketime fails this suite; elsewhere it is skipped with a warning.
const HOUR = 3_600_000;

function faketimeWorks(): boolean {
  const probe = spawnSync('faketime', ['-f', '+1h', process.execPath, '-e', 'process.stdout.write(String(Date.now()))'], { encoding: 'utf8' });
  const shifted = Number(probe.stdout) - Date.now();
  return probe.status === 0 && Math.abs(shifted - HOUR) < 60_000;
}
const FAKETIME = faketimeWorks();
if (!FAKETIME) {
  if (process.env.CI === 'true' || process.env.HARN_REQUIRE_FAKETIME) throw new Error('faketime (libfaketime) is missing or does not move Date.now() in node: apt-get install -y faketime');
  console.warn('[harn-agents] faketime is not installed: the clock-skew suite is skipped (apt-get install -y faketime)');
}

/** Run the built CLI with its clock shifted by `offset` (faketime's syntax: '+1h', '-1h', '+6s'). */
function skewed(offset: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync('faketime', ['-f', offset, process.execPath, BIN, ...args], { cwd, env: cleanEnv(env), encoding: 'utf8', input: '' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Holders of each path's live locks at the registry's time (its newest stamp, or the real clock if later). */
function holdersPerPath(ws: string): Map<string, number[]> {
  const state = readState(ws);
  const now = Math.max(Date.now(), ...state.agents.map((a) => a.last_seen_ms));
  const holders = new Map<string, number[]>();
  for (const agent of state.agents) {
    for (const [p, expiry] of Object.entries(agent.locked_paths)) {
      if (expiry > now) holders.set(p, [...(holders.get(p) ?? []), agent.id]);
    }
  }
  return holders;
}

function expectNoTwoHolders(ws: string): void {
  for (const [p, ids] of holdersPerPath(ws)) expect(ids, `holders of ${p}`).toHaveLength(1);
}

/** A bin directory whose `harn-agents` runs the built CLI, so a printed fix command runs as written. */
function binDir(): string {
  const dir = tempDir('harn-bin-');
  fs.writeFileSync(path.join(dir, 'harn-agents'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return dir;
}

/** The `fix:` command doctor printed for `check`. */
function fixFor(doctorOut: string, check: string): string {
  const lines = doctorOut.split('\n');
  const at = lines.findIndex((l) => l.startsWith('PROBLEM') && l.includes(` ${check} `));
  expect(at, doctorOut).toBeGreaterThanOrEqual(0);
  const fix = /^\s+fix: (.*)$/.exec(lines[at + 1] ?? '');
  expect(fix, doctorOut).not.toBeNull();
  return fix?.[1] ?? '';
}

describe.skipIf(!FAKETIME)('one call with a clock an hour ahead (libfaketime)', () => {
  it('faketime moves Date.now() in a node child by the offset', () => {
    const r = spawnSync('faketime', ['-f', '+1h', process.execPath, '-e', 'process.stdout.write(String(Date.now()))'], { encoding: 'utf8' });
    expect(Number(r.stdout) - Date.now()).toBeGreaterThan(HOUR - 60_000);
  });

  it('status blames the writer ahead, doctor prints the fix, and after it a 5 s lock is free 5 s later; never two holders', () => {
    const ws = tempDir();
    expect(cli(['register', 'holder'], { cwd: ws }).stdout).toBe('1\n');
    expect(cli(['lock', 'f', '--agent', '1', '--ttl', '10m'], { cwd: ws }).code).toBe(0);
    expectNoTwoHolders(ws);

    // The skewed call: its clock says an hour has passed, so it reaps agent 1 (indistinguishable from time
    // passing) and stamps the registry an hour ahead.
    expect(skewed('+1h', ['register', 'skewed'], ws).stdout).toBe('2\n');
    expectNoTwoHolders(ws);

    // Every normal call now runs on the registry's frozen time: a 5 s lock is still held 8 s later.
    expect(cli(['lock', 'g', '--agent', '3', '--ttl', '5s'], { cwd: ws }).code).toBe(0);
    const stuck = skewed('+8s', ['lock', 'g', '--agent', '4'], ws);
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toMatch(/refused: g is held by agent 3/);
    expectNoTwoHolders(ws);

    // status on the real clock says which side moved: the registry, pushed ahead by a writer.
    // --table: stderr then holds the warning alone (into a pipe, notes about hidden agents follow it).
    const text = cli(['status', '--table'], { cwd: ws });
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^harn-agents: warning: the registry's time is (59m\d+s|1h) ahead of this machine's clock: a call with a clock ahead wrote it/);
    expect(text.stderr).toMatch(/see 'harn-agents doctor'\n$/);
    expect(text.stderr).not.toMatch(/went back/);
    const json = JSON.parse(cli(['--json', 'status'], { cwd: ws }).stdout);
    expect(json.clock).toMatchObject({ cause: 'registry_ahead', clock_behind_file_ms: 0 });
    expect(json.clock.registry_ahead_of_file_ms).toBeGreaterThan(HOUR - 60_000);
    expect(json.clock.behind_ms).toBe(json.clock_behind_ms);

    // doctor names the problem and the command; the command, run as printed, brings the registry back.
    const before = cli(['doctor'], { cwd: ws });
    expect(before.code).toBe(1);
    const fix = fixFor(before.stdout, 'clock');
    expect(fix).toBe('harn-agents doctor --fix-clock');
    const fixed = spawnSync('sh', ['-c', fix], { cwd: ws, env: cleanEnv({ PATH: `${binDir()}:${process.env.PATH}` }), encoding: 'utf8' });
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/^rebased the registry to this clock: every time moved back (59m\d+s|1h)/);
    expectNoTwoHolders(ws);
    expect(cli(['doctor'], { cwd: ws }).code).toBe(0);
    expect(cli(['status'], { cwd: ws }).stderr).not.toMatch(/warning/);
    // g kept its time left (at most 5 s), so it is still held now...
    expect(JSON.parse(cli(['--json', 'holder', 'g'], { cwd: ws }).stdout)[0].holders[0].agent.id).toBe(3);
    expect(cli(['lock', 'g', '--agent', '4'], { cwd: ws }).code).toBe(1);
    // ...and free for a call whose clock is 6 s later.
    expect(skewed('+6s', ['lock', 'g', '--agent', '4'], ws).code).toBe(0);
    expectNoTwoHolders(ws);

    // A 5 s lock taken after the fix is free about 5 s later, not an hour later.
    expect(cli(['lock', 'h', '--agent', '5', '--ttl', '5s'], { cwd: ws }).code).toBe(0);
    expect(cli(['lock', 'h', '--agent', '6'], { cwd: ws }).code).toBe(1);
    expect(skewed('+12s', ['lock', 'h', '--agent', '6'], ws).code).toBe(0);
    expectNoTwoHolders(ws);
    expect(JSON.parse(cli(['--json', 'log'], { cwd: ws }).stdout).events.map((e: { type: string }) => e.type)).toContain('clock-rebase');
  });

  it('a clock that went back is told apart: status says this clock went back, not the registry', () => {
    const ws = tempDir();
    cli(['register', 'a'], { cwd: ws });
    cli(['lock', 'f', '--agent', '1', '--ttl', '10m'], { cwd: ws });
    const text = skewed('-1h', ['status'], ws);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^harn-agents: warning: this machine's clock went back: it is (59m\d+s|1h) behind the state file's last write/);
    const json = JSON.parse(skewed('-1h', ['--json', 'status'], ws).stdout);
    expect(json.clock.cause).toBe('clock_went_back');
    expect(json.clock.clock_behind_file_ms).toBeGreaterThan(HOUR - 60_000);
    // The lock held before the clock went back is still held, for its full TTL.
    expect(json.agents[0].locks.map((l: { path: string }) => l.path)).toEqual(['f']);
  });
});

const PG_URL = process.env.HARN_TEST_POSTGRES_URL;

describe.skipIf(!FAKETIME || !PG_URL)('lock --wait with a client clock an hour ahead of the PostgreSQL server', () => {
  it('runs a bounded number of transactions (one per 50 ms at most), not a busy loop', async () => {
    // A database of its own, so its transaction count is this test's alone.
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const db = `harn_clock_wait_${process.pid}_${Date.now()}`;
    await admin.query(`CREATE DATABASE ${db}`);
    try {
      const url = new URL(PG_URL ?? '');
      url.pathname = `/${db}`;
      const ws = tempDir();
      const g = ['--store', url.toString(), '--namespace', 'wait'];
      // Held for 30 minutes by the server's clock: already expired by the client's, which is an hour ahead.
      expect(cli([...g, 'lock', 'a', '--agent', '1', '--ttl', '30m'], { cwd: ws }).code).toBe(0);
      const count = async (): Promise<number> => {
        // A backend flushes its statistics when it exits: wait (boundedly) until the CLI's has.
        for (let i = 0; i < 200; i++) {
          const active = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [db]);
          if (active.rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await admin.query('SELECT pg_stat_clear_snapshot()');
        const r = await admin.query('SELECT (xact_commit + xact_rollback)::int AS n FROM pg_stat_database WHERE datname = $1', [db]);
        return r.rows[0].n;
      };
      const start = await count();
      const waited = skewed('+1h', [...g, 'lock', 'a', '--agent', '2', '--wait', '2s'], ws);
      expect(waited.code, waited.stderr).toBe(1);
      const transactions = (await count()) - start;
      // 2 s at one try per 50 ms at most is 40, plus the connection's own few; the busy loop ran hundreds.
      expect(transactions).toBeLessThanOrEqual(60);
      expect(transactions).toBeGreaterThanOrEqual(2);
    } finally {
      for (let i = 0; i < 100; i++) {
        const active = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [db]);
        if (active.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await admin.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
      await admin.end();
    }
  });
});
