import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, statePath, tempDir, type CliResult } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// Permission checks do not apply to root, and CI runs as root: there, the CLI is run as `nobody` from a
// world-readable copy of the build, against directories made for it (another uid needs a process of its
// own). Set-up, and the full disk (root's own writes), run in-process through runCli.
const isRoot = process.getuid?.() === 0;
const NOBODY = 65_534;
let appBin = BIN;

beforeAll(() => {
  if (!isRoot) return;
  const app = tempDir('harn-app-');
  fs.cpSync(path.dirname(path.dirname(BIN)) + '/dist', path.join(app, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(app, 'bin'));
  fs.copyFileSync(BIN, path.join(app, 'bin', 'harn-agents.js'));
  spawnSync('chmod', ['-R', 'a+rX', app]);
  appBin = path.join(app, 'bin', 'harn-agents.js');
});

/** Run the CLI as an unprivileged user (nobody when we are root, ourselves otherwise). */
function cliUnprivileged(args: string[], cwd: string): CliResult {
  const result = spawnSync(process.execPath, [appBin, ...args], {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** A workspace with a state file, owned by the user the CLI runs as. */
async function workspaceWithState(): Promise<string> {
  const ws = tempDir();
  expect(await inProcessCli({ ws, clock: testClock(Date.now()) }).run(['register', 'existing'])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
  if (isRoot) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, ws]);
  return ws;
}

function expectExit3Unchanged(ws: string, args: string[], message: RegExp): void {
  const before = fs.readFileSync(statePath(ws));
  const result = cliUnprivileged(args, ws);
  expect(result.code, result.stderr).toBe(3);
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(fs.readFileSync(statePath(ws)).equals(before)).toBe(true);
  expect(fs.readdirSync(path.dirname(statePath(ws))).sort()).toEqual(['.gitignore', 'agents.json']);
}

describe('an unwritable state', () => {
  it('a read-only .harn/ directory: exit 3, nothing changed; reads still work', async () => {
    const ws = await workspaceWithState();
    fs.chmodSync(path.join(ws, '.harn'), 0o555);
    expectExit3Unchanged(ws, ['register', 'new'], /^harn-agents: cannot (lock|write) state file .*agents\.json: .*EACCES/);
    expect(cliUnprivileged(['status', '--json'], ws).code).toBe(0);
  });

  it('a read-only state file: exit 3, nothing changed (not replaced by rename)', async () => {
    const ws = await workspaceWithState();
    fs.chmodSync(statePath(ws), 0o444);
    expectExit3Unchanged(ws, ['register', 'new'], /^harn-agents: state file .*agents\.json is read-only; it was left as it was/);
    // A command that changes nothing still answers.
    const holder = cliUnprivileged(['holder', 'x'], ws);
    expect(holder.code).toBe(1);
  });

  it('an event log that cannot be appended after the change is committed: one warning line, the exit code is the result', async () => {
    const ws = await workspaceWithState();
    const events = path.join(ws, '.harn', 'events.jsonl');
    fs.writeFileSync(events, '');
    if (isRoot) fs.chownSync(events, NOBODY, NOBODY);
    fs.chmodSync(events, 0o444);
    expect(cliUnprivileged(['lock', 'x', '--agent', '1'], ws).code).toBe(0);
    const forced = cliUnprivileged(['release', '--force', 'x', '--reason', 'stuck'], ws);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/^harn-agents: warning: the change was saved, but the event log .*events\.jsonl could not be written: .*EACCES/);
    expect(forced.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(cliUnprivileged(['holder', 'x'], ws).code).toBe(1); // the lock really was broken
    const ran = cliUnprivileged(['with-lock', 'y', '--', 'sh', '-c', 'exit 7'], ws);
    expect(ran.code, ran.stderr).toBe(7);
    expect(ran.stderr).toMatch(/warning: the change was saved, but the event log/);
  });

  describe.runIf(isRoot)('a full disk (a tiny tmpfs, as root)', () => {
    let mount: string;
    beforeAll(() => {
      mount = tempDir('harn-full-');
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
      expect(mounted.status, String(mounted.stderr)).toBe(0);
    });
    afterAll(() => {
      spawnSync('umount', [mount]);
    });

    it('a write that fails with ENOSPC: exit 3, the old file intact, no temp file left', async () => {
      // As root, in-process: no other uid is needed to fill a disk.
      const { run } = inProcessCli({ ws: mount, clock: testClock() });
      expect(await run(['register', 'a'])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
      // Grow the registry so the next write needs more than the space left after filling the disk.
      for (let i = 0; i < 5; i++) expect((await run(['lock', `some/long/path/number-${i}.ts`, '--agent', '1', '--ttl', '1h'])).code).toBe(0);
      spawnSync('sh', ['-c', `cat /dev/zero > ${mount}/filler 2>/dev/null; true`]);
      const before = fs.readFileSync(statePath(mount));
      const result = await run(['register', 'x'.repeat(256)]); // the longest name; any new page is beyond a full disk
      expect(result.code, result.stderr).toBe(3);
      expect(result.stdout).toBe('');
      // Said as such (issue 21: it was "cannot write ... ENOSPC", and doctor said healthy).
      expect(result.stderr).toBe(`harn-agents: no space left on the device holding ${path.join(mount, '.harn')}; nothing was changed (run 'harn-agents doctor')\n`);
      expect(fs.readFileSync(statePath(mount)).equals(before)).toBe(true);
      expect(fs.readdirSync(path.join(mount, '.harn')).sort()).toEqual(['.gitignore', 'agents.json']);
      const doctor = await run(['--json', 'doctor']);
      expect(doctor.code).toBe(1);
      const state = JSON.parse(doctor.stdout).checks.find((c: { check: string }) => c.check === 'state');
      expect(state).toMatchObject({ ok: false, fix: `df -h ${path.join(mount, '.harn')}` });
      expect(state.detail).toMatch(new RegExp(`^no space left on the device holding ${path.join(mount, '.harn')}: \\d+ bytes free, a write needs about \\d+$`));
      fs.rmSync(path.join(mount, 'filler'));
      expect((await run(['doctor'])).code).toBe(0);
      expect(await run(['register', 'fits-now'])).toEqual({ code: 0, stdout: '2\n', stderr: '' });
    });
  });
});
