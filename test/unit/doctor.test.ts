import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, readState, statePath, tempDir, writeState } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// doctor's checks and fixes, in-process through the CLI's own wiring (runCli). The clock is the wall clock at
// the start of each test, held still: the state lock's age is judged from its directory's mtime, which the
// file system stamps on the real clock. Fix commands are checked to be exactly what is printed, then run as
// that argv in-process; the ones whose shell quoting matters run in a real shell in test/e2e/doctor.test.ts.

interface DoctorJson {
  healthy: boolean;
  checks: Array<{ check: string; ok: boolean; detail: string; fix: string | null }>;
}

type Cli = ReturnType<typeof inProcessCli>;
const cliIn = (ws: string) => inProcessCli({ ws, clock: testClock(Date.now()) });

async function doctor(cli: Cli, env: Record<string, string> = {}): Promise<{ code: number; json: DoctorJson; text: string }> {
  const json = await cli.json(['doctor'], env);
  const text = await cli.run(['doctor'], env);
  expect(json.code).toBe(text.code);
  expect(json.stderr).toBe('');
  expect(text.stderr).toBe('');
  return { code: json.code, json: json.data as DoctorJson, text: text.stdout };
}

/** The one problem doctor found, checked to be `check`, printed with its fix. */
async function theProblem(cli: Cli, check: string, env: Record<string, string> = {}): Promise<{ detail: string; fix: string }> {
  const d = await doctor(cli, env);
  expect(d.code, d.text).toBe(1);
  expect(d.json.healthy).toBe(false);
  const problems = d.json.checks.filter((c) => !c.ok);
  expect(problems.map((p) => p.check)).toEqual([check]);
  const [p] = problems;
  expect(p?.fix).toBeTruthy();
  expect(d.text).toContain(`fix: ${p?.fix}\n`);
  return { detail: p?.detail ?? '', fix: p?.fix ?? '' };
}

/** Run a printed `harn-agents ...` fix (no quoting in it) in-process, as its argv. */
async function runFix(cli: Cli, fix: string): Promise<void> {
  expect(fix).toMatch(/^harn-agents [a-z -]+$/);
  const result = await cli.run(fix.split(' ').slice(1));
  expect(result.code, `${fix}: ${result.stderr}`).toBe(0);
}

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv() });

describe('harn-agents doctor', () => {
  it('exits 0 on a healthy workspace (fresh, in use, and a git repository with both hooks)', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    expect((await doctor(cli)).code).toBe(0);
    expect((await cli.run(['register', 'a'])).code).toBe(0);
    expect((await cli.run(['lock', 'f', '--agent', '1'])).code).toBe(0);
    const d = await doctor(cli);
    expect(d.code, d.text).toBe(0);
    expect(d.json.healthy).toBe(true);
    expect(d.json.checks.map((c) => [c.check, c.ok, c.fix])).toEqual([
      ['settings', true, null],
      ['store', true, null],
      ['state', true, null],
      ['state lock', true, null],
      ['clock', true, null],
      ['hooks', true, null],
      ['agent hooks', true, null],
    ]);
    expect(d.json.checks.find((c) => c.check === 'state')?.detail).toBe('valid: 1 agent');
    expect(d.text).toMatch(/\nhealthy\n$/);

    git(ws, 'init', '-q');
    expect((await cli.run(['hook', 'install'])).code).toBe(0);
    expect((await doctor(cli)).code).toBe(0);
  });

  it('an invalid state file: every call exits 3 naming doctor; doctor shows where, --reset moves it aside and starts afresh', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    const broken = '{"next_id":8,"agents":[{"id":7,"name":"x","state":"active","last_seen_ms":1,"edit_count":0,"locked_paths":{}}]';
    writeState(ws, broken);
    const failed = await cli.run(['register', 'y']);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toBe('');
    expect(failed.stderr.startsWith(`harn-agents: state file ${statePath(ws)} is invalid: `), failed.stderr).toBe(true);
    expect(failed.stderr.endsWith("(run 'harn-agents doctor')\n")).toBe(true);
    expect(failed.stderr.split('\n')).toHaveLength(2);

    const { detail, fix } = await theProblem(cli, 'state');
    expect(detail.startsWith(`state file ${statePath(ws)} is invalid: `), detail).toBe(true);
    expect(fix).toBe('harn-agents doctor --reset');
    await runFix(cli, fix);
    // The broken file is kept beside the new one, byte for byte.
    const aside = fs.readdirSync(path.join(ws, '.harn')).filter((f) => f.startsWith('agents.json.broken-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(ws, '.harn', aside[0] as string), 'utf8')).toBe(broken);
    expect((await doctor(cli)).code).toBe(0);
    // Ids the broken file handed out are not handed out again.
    expect(await cli.run(['register', 'y'])).toEqual({ code: 0, stdout: '8\n', stderr: '' });
    expect((await cli.json(['log'])).data.events.map((e: { type: string }) => e.type)).toEqual(['state-reset']);
    // A valid state is not reset.
    const again = await cli.run(['doctor', '--reset']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/is valid: nothing to reset/);
    expect(again.stderr.split('\n')).toHaveLength(2);
  });

  it('a state file over the 64 MiB cap: the printed fix works, and ids anywhere in it are not handed out again', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    // Sparse: a real prefix, 65 MiB of zeros, and an id past the first megabyte's boundary at the end.
    writeState(ws, '{"next_id":8,"agents":[');
    const file = statePath(ws);
    fs.truncateSync(file, 65 * 1024 * 1024);
    fs.appendFileSync(file, '{"id": 41,');
    expect((await cli.run(['status'])).code).toBe(3);
    const { fix } = await theProblem(cli, 'state');
    expect(fix).toBe('harn-agents doctor --reset');
    await runFix(cli, fix);
    expect(fs.readdirSync(path.join(ws, '.harn')).filter((f) => f.startsWith('agents.json.broken-'))).toHaveLength(1);
    expect(await cli.run(['register', 'y'])).toEqual({ code: 0, stdout: '42\n', stderr: '' });
  });

  it('a stale state lock directory: doctor prints the command that removes it', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    expect((await cli.run(['register', 'a'])).code).toBe(0);
    const lockDir = `${statePath(ws)}.lock`;
    fs.mkdirSync(lockDir);
    const old = new Date(cli.clock.now - 60_000);
    fs.utimesSync(lockDir, old, old);
    const { detail, fix } = await theProblem(cli, 'state lock');
    expect(detail).toBe(`${lockDir} is stale: not refreshed for 1m, so its holder is gone (the next write takes it over after 5s)`);
    expect(fix).toBe(`rm -r ${lockDir}`);
    fs.rmSync(lockDir, { recursive: true });
    expect((await doctor(cli)).code).toBe(0);
  });

  it('a fresh lock that is not released: exit 4 names doctor, doctor says it is held by a running call', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    expect((await cli.run(['register', 'a'])).code).toBe(0);
    fs.mkdirSync(`${statePath(ws)}.lock`);
    // The wait is real time (the state lock watches with the monotonic clock), 200 ms whatever the load.
    const r = await cli.run(['register', 'b'], { HARN_STATE_LOCK_WAIT: '200ms' });
    expect(r).toEqual({
      code: 4,
      stdout: '',
      stderr: `harn-agents: could not take the lock on ${statePath(ws)} within 200ms: another process holds ${statePath(ws)}.lock (run 'harn-agents doctor')\n`,
    });
    const d = await doctor(cli);
    expect(d.json.checks.find((c) => c.check === 'state lock')).toMatchObject({ ok: true, fix: null, detail: expect.stringMatching(/^held by a running call/) });
  });

  it('a registry pushed into the future: doctor --fix-clock rebases it', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    const ahead = cli.clock.now + 3_600_000;
    writeState(ws, JSON.stringify({ next_id: 2, agents: [{ id: 1, name: 'a', state: 'active', last_seen_ms: ahead, edit_count: 0, locked_paths: { f: ahead + 600_000 } }] }));
    const { detail, fix } = await theProblem(cli, 'clock');
    expect(detail).toMatch(/^the registry's time is 1h ahead of this machine's clock: a call with a clock ahead wrote it/);
    expect(fix).toBe('harn-agents doctor --fix-clock');
    await runFix(cli, fix);
    expect((await doctor(cli)).code).toBe(0);
    // The lock kept its 10 minutes, now counted on this clock.
    expect(readState(ws).agents[0]?.locked_paths.f).toBe(cli.clock.now + 600_000);
  });

  it('a hook replaced by another tool: doctor prints hook install, which keeps the other hook running first', async () => {
    const ws = tempDir();
    const cli = cliIn(ws);
    git(ws, 'init', '-q');
    expect((await cli.run(['hook', 'install'])).code).toBe(0);
    const preCommit = path.join(ws, '.git', 'hooks', 'pre-commit');
    fs.writeFileSync(preCommit, '#!/bin/sh\necho lint\n', { mode: 0o755 });
    const { detail, fix } = await theProblem(cli, 'hooks');
    expect(detail).toMatch(/pre-commit is another hook, not harn-agents/);
    expect(fix).toBe('harn-agents hook install');
    await runFix(cli, fix);
    expect((await doctor(cli)).code).toBe(0);
    expect(fs.readFileSync(`${preCommit}.harn-previous`, 'utf8')).toBe('#!/bin/sh\necho lint\n');
  });

  it('a HARN_* variable that does not parse: doctor names it and prints unset', async () => {
    const cli = cliIn(tempDir());
    const env = { HARN_LOCK_TTL: 'banana' };
    const status = await cli.run(['status'], env);
    expect(status.code).toBe(2);
    expect(status.stdout).toBe('');
    expect(status.stderr).toMatch(/^harn-agents: HARN_LOCK_TTL: 'banana' is not a duration/);
    expect(status.stderr.split('\n')).toHaveLength(2);
    const { detail, fix } = await theProblem(cli, 'settings', env);
    expect(detail).toMatch(/HARN_LOCK_TTL/);
    expect(fix).toBe('unset HARN_LOCK_TTL');
    expect((await doctor(cli, {})).code).toBe(0);
  });

  it('with -C, the printed fix commands carry it, quoted', async () => {
    const parent = tempDir();
    const ws = path.join(parent, 'my ws');
    fs.mkdirSync(ws);
    writeState(ws, '{');
    const cli = cliIn(parent);
    const d = await cli.json(['-C', 'my ws', 'doctor']);
    expect(d.code).toBe(1);
    expect((d.data as DoctorJson).checks.filter((c) => !c.ok).map((c) => [c.check, c.fix])).toEqual([['state', "harn-agents -C 'my ws' doctor --reset"]]);
    expect((await cli.run(['-C', 'my ws', 'doctor', '--reset'])).code).toBe(0);
    expect((await cli.run(['-C', 'my ws', 'doctor'])).code).toBe(0);
  });
});
