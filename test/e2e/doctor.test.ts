import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, readState, statePath, tempDir, writeState } from '../helpers/cli.js';

/** A bin directory whose `harn-agents` runs the built CLI, so printed fix commands run as written. */
function binDir(): string {
  const dir = tempDir('harn-bin-');
  fs.writeFileSync(path.join(dir, 'harn-agents'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return dir;
}
const BIN_DIR = binDir();

/** Run a printed fix command in a shell, as a user would paste it. */
function runFix(command: string, cwd: string, env: Record<string, string> = {}): void {
  const r = spawnSync('sh', ['-c', command], { cwd, env: cleanEnv({ ...env, PATH: `${BIN_DIR}:${process.env.PATH}` }), encoding: 'utf8' });
  expect(r.status, `${command}: ${r.stderr}`).toBe(0);
}

interface DoctorJson {
  healthy: boolean;
  checks: Array<{ check: string; ok: boolean; detail: string; fix: string | null }>;
}

function doctor(cwd: string, env: Record<string, string> = {}): { code: number | null; json: DoctorJson; text: string } {
  const json = cli(['--json', 'doctor'], { cwd, env });
  const text = cli(['doctor'], { cwd, env });
  expect(json.code).toBe(text.code);
  return { code: json.code, json: JSON.parse(json.stdout), text: text.stdout };
}

/** The one problem doctor found, checked to be `check`, printed with its fix. */
function theProblem(cwd: string, check: string, env: Record<string, string> = {}): { detail: string; fix: string } {
  const d = doctor(cwd, env);
  expect(d.code, d.text).toBe(1);
  const problems = d.json.checks.filter((c) => !c.ok);
  expect(problems.map((p) => p.check)).toEqual([check]);
  const [p] = problems;
  expect(p?.fix).toBeTruthy();
  expect(d.text).toContain(`fix: ${p?.fix}`);
  return { detail: p?.detail ?? '', fix: p?.fix ?? '' };
}

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv() });

describe('harn-agents doctor', () => {
  it('exits 0 on a healthy workspace (fresh, in use, and a git repository with both hooks)', () => {
    const ws = tempDir();
    expect(doctor(ws).code).toBe(0);
    cli(['register', 'a'], { cwd: ws });
    cli(['lock', 'f', '--agent', '1'], { cwd: ws });
    const d = doctor(ws);
    expect(d.code, d.text).toBe(0);
    expect(d.json.healthy).toBe(true);
    expect(d.json.checks.map((c) => c.check)).toEqual(['settings', 'store', 'state', 'state lock', 'clock', 'hooks']);
    expect(d.text).toMatch(/\nhealthy\n$/);

    git(ws, 'init', '-q');
    expect(cli(['hook', 'install'], { cwd: ws }).code).toBe(0);
    expect(doctor(ws).code).toBe(0);
  });

  it('an invalid state file: every call exits 3 naming doctor; doctor shows where, --reset moves it aside and starts afresh', () => {
    const ws = tempDir();
    const broken = '{"next_id":8,"agents":[{"id":7,"name":"x","state":"active","last_seen_ms":1,"edit_count":0,"locked_paths":{}}]';
    writeState(ws, broken);
    const failed = cli(['register', 'y'], { cwd: ws });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^harn-agents: state file .* is invalid: .*\(run 'harn-agents doctor'\)\n$/);

    const { detail, fix } = theProblem(ws, 'state');
    expect(detail).toMatch(/is invalid: /);
    expect(fix).toBe('harn-agents doctor --reset');
    runFix(fix, ws);
    // The broken file is kept beside the new one, byte for byte.
    const aside = fs.readdirSync(path.join(ws, '.harn')).filter((f) => f.startsWith('agents.json.broken-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(ws, '.harn', aside[0] as string), 'utf8')).toBe(broken);
    expect(doctor(ws).code).toBe(0);
    // Ids the broken file handed out are not handed out again.
    expect(cli(['register', 'y'], { cwd: ws }).stdout).toBe('8\n');
    expect(JSON.parse(cli(['--json', 'log'], { cwd: ws }).stdout).events.map((e: { type: string }) => e.type)).toEqual(['state-reset']);
    // A valid state is not reset.
    const again = cli(['doctor', '--reset'], { cwd: ws });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is valid: nothing to reset/);
  });

  it('a stale state lock directory: doctor prints the command that removes it', () => {
    const ws = tempDir();
    cli(['register', 'a'], { cwd: ws });
    const lockDir = `${statePath(ws)}.lock`;
    fs.mkdirSync(lockDir);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockDir, old, old);
    const { detail, fix } = theProblem(ws, 'state lock');
    expect(detail).toMatch(/is stale: not refreshed for 1m/);
    runFix(fix, ws);
    expect(fs.existsSync(lockDir)).toBe(false);
    expect(doctor(ws).code).toBe(0);
  });

  it('a fresh lock that is not released: exit 4 names doctor, doctor says it is held by a running call', () => {
    const ws = tempDir();
    cli(['register', 'a'], { cwd: ws });
    fs.mkdirSync(`${statePath(ws)}.lock`);
    const r = cli(['register', 'b'], { cwd: ws, env: { HARN_STATE_LOCK_WAIT: '200ms' } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/\(run 'harn-agents doctor'\)\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    const d = doctor(ws);
    expect(d.json.checks.find((c) => c.check === 'state lock')).toMatchObject({ ok: true, detail: expect.stringMatching(/^held by a running call/) });
  });

  it('a registry pushed into the future: doctor --fix-clock rebases it', () => {
    const ws = tempDir();
    const ahead = Date.now() + 3_600_000;
    writeState(ws, JSON.stringify({ next_id: 2, agents: [{ id: 1, name: 'a', state: 'active', last_seen_ms: ahead, edit_count: 0, locked_paths: { f: ahead + 600_000 } }] }));
    const { detail, fix } = theProblem(ws, 'clock');
    expect(detail).toMatch(/^the registry's time is (59m\d+s|1h) ahead of this machine's clock: a call with a clock ahead wrote it/);
    runFix(fix, ws);
    expect(doctor(ws).code).toBe(0);
    // The lock kept its 10 minutes, now counted on this clock.
    const expiry = readState(ws).agents[0]?.locked_paths.f ?? 0;
    expect(expiry - Date.now()).toBeGreaterThan(590_000);
    expect(expiry - Date.now()).toBeLessThanOrEqual(600_000);
  });

  it('a hook replaced by another tool: doctor prints hook install, which keeps the other hook running first', () => {
    const ws = tempDir();
    git(ws, 'init', '-q');
    expect(cli(['hook', 'install'], { cwd: ws }).code).toBe(0);
    const preCommit = path.join(ws, '.git', 'hooks', 'pre-commit');
    fs.writeFileSync(preCommit, '#!/bin/sh\necho lint\n', { mode: 0o755 });
    const { detail, fix } = theProblem(ws, 'hooks');
    expect(detail).toMatch(/pre-commit is another hook, not harn-agents/);
    expect(fix).toBe('harn-agents hook install');
    runFix(fix, ws);
    expect(doctor(ws).code).toBe(0);
    expect(fs.readFileSync(`${preCommit}.harn-previous`, 'utf8')).toBe('#!/bin/sh\necho lint\n');
  });

  it('a HARN_* variable that does not parse: doctor names it and prints unset', () => {
    const ws = tempDir();
    const env = { HARN_LOCK_TTL: 'banana' };
    expect(cli(['status'], { cwd: ws, env }).code).toBe(2);
    const { detail, fix } = theProblem(ws, 'settings', env);
    expect(detail).toMatch(/HARN_LOCK_TTL/);
    expect(fix).toBe('unset HARN_LOCK_TTL');
    const after = spawnSync('sh', ['-c', `${fix}; harn-agents doctor`], { cwd: ws, env: cleanEnv({ ...env, PATH: `${BIN_DIR}:${process.env.PATH}` }), encoding: 'utf8' });
    expect(after.status, after.stdout).toBe(0);
  });

  it('with -C, the printed fix commands carry it', () => {
    const parent = tempDir();
    const ws = path.join(parent, 'my ws');
    fs.mkdirSync(ws);
    writeState(ws, '{');
    const d = cli(['-C', 'my ws', '--json', 'doctor'], { cwd: parent });
    expect(d.code).toBe(1);
    const fix = (JSON.parse(d.stdout) as DoctorJson).checks.find((c) => !c.ok)?.fix ?? '';
    expect(fix).toBe("harn-agents -C 'my ws' doctor --reset");
    runFix(fix, parent);
    expect(cli(['-C', 'my ws', 'doctor'], { cwd: parent }).code).toBe(0);
  });
});
