import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, readState, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// What only processes show: real git hooks run by real commits and pushes (installed in-process, calling the
// built CLI as bin/harn-agents.js would have them call it), check reading its own stdin,
// with-lock running a child (its exit code, signals), status --watch until SIGINT. The rest of these
// workflows (directory locks, reasons, force release, the event log, status filters, check, with-lock's
// renewals, completion) run in-process on an injected clock in test/unit/workflow.test.ts.

let ws: string;
beforeEach(() => {
  ws = tempDir();
});

const run = (args: string[], env?: Record<string, string | undefined>, input?: string) => cli(args, { cwd: ws, env, input });
/**
 * Set-up and look-ups around the process under test, in-process: the wall clock, and TTLs of an hour, so the
 * spawned CLI (on the same wall clock) sees the same live locks however slowly it starts.
 */
const local = (cwd: string = ws) => inProcessCli({ ws: cwd, clock: testClock(Date.now()), selfCommand: [process.execPath, BIN] });
/** Agents the set-up creates stay active for an hour, not 45 s: the spawned CLI may start late on a loaded machine. */
const LONG_LIVED = { HARN_AGENT_TIMEOUT: '1h' };
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' }) });
  return r;
};

function gitRepo(): string {
  const repo = tempDir('harn-repo-');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 't@e');
  git(repo, 'config', 'user.name', 't');
  return repo;
}

describe('check', () => {
  it('--stdin reads newline- or NUL-separated paths, spaces and non-ASCII intact; paths outside are skipped', async () => {
    expect((await local().run(['lock', 'dir with space/ünï.ts', '--agent', '1', '--ttl', '1h'], LONG_LIVED)).code).toBe(0);
    expect(run(['check', '--stdin'], {}, 'other.ts\ndir with space/ünï.ts\n').code).toBe(1);
    expect(run(['check', '--stdin', '-z'], {}, 'x\0dir with space/ünï.ts\0/etc/passwd\0').code).toBe(1);
    expect(run(['check', '--stdin', '-z'], {}, 'x\0y\0').code).toBe(0);
  });
});

describe('hook install | uninstall | status', () => {
  const hookEnv = (repo: string, extra: Record<string, string> = {}) =>
    cleanEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', HARN_WORKSPACE: repo, ...extra });

  it('installs pre-commit that refuses a commit touching a path another agent holds; idempotent; status', async () => {
    const repo = gitRepo();
    expect((await local(repo).run(['hook', 'status'])).code).toBe(1);
    expect((await local(repo).run(['hook', 'install'])).stdout).toMatch(/pre-commit: installed\npre-push: installed/);
    expect((await local(repo).run(['hook', 'install'])).stdout).toMatch(/pre-commit: already installed/);
    expect((await local(repo).run(['hook', 'status'])).code).toBe(0);
    fs.writeFileSync(path.join(repo, 'held.txt'), 'x');
    expect((await local(repo).run(['lock', 'held.txt', '--agent', '1', '--reason', 'mine', '--ttl', '1h'], LONG_LIVED)).code).toBe(0);
    git(repo, 'add', 'held.txt');
    const refused = spawnSync('git', ['commit', '-qm', 'x'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/held\.txt: held by agent 1 \(agent-1\) \(reason: mine\)/);
    const asHolder = spawnSync('git', ['commit', '-qm', 'x'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo, { HARN_AGENT_ID: '1' }) });
    expect(asHolder.status, asHolder.stderr).toBe(0);
  });

  it('keeps and still runs a hook that was there, and uninstall restores it exactly', async () => {
    const repo = gitRepo();
    const own = path.join(repo, '.git/hooks/pre-commit');
    const original = '#!/bin/sh\necho "my own hook ran" >&2\nexit 0\n';
    fs.writeFileSync(own, original, { mode: 0o755 });
    expect((await local(repo).run(['hook', 'install'])).stdout).toMatch(/kept as pre-commit\.harn-previous and still runs first/);
    fs.writeFileSync(path.join(repo, 'f.txt'), 'x');
    git(repo, 'add', 'f.txt');
    const committed = spawnSync('git', ['commit', '-qm', 'x'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(committed.status, committed.stderr).toBe(0);
    expect(committed.stderr).toMatch(/my own hook ran/);
    expect((await local(repo).run(['hook', 'uninstall'])).stdout).toMatch(/pre-commit: removed; the previous hook is back/);
    expect(fs.readFileSync(own, 'utf8')).toBe(original);
    expect(fs.statSync(own).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(path.join(repo, '.git/hooks/pre-push'))).toBe(false);
    expect(fs.existsSync(`${own}.harn-previous`)).toBe(false);
  });

  it('honours core.hooksPath and works from a linked worktree', async () => {
    const repo = gitRepo();
    git(repo, 'config', 'core.hooksPath', 'custom-hooks');
    expect((await local(repo).run(['hook', 'install'])).code).toBe(0);
    expect(fs.existsSync(path.join(repo, 'custom-hooks/pre-commit'))).toBe(true);
    git(repo, 'config', '--unset', 'core.hooksPath');
    fs.writeFileSync(path.join(repo, 'f'), 'x');
    git(repo, 'add', 'f');
    git(repo, 'commit', '-qm', 'init');
    const tree = path.join(tempDir('harn-wt-'), 'wt');
    expect(git(repo, 'worktree', 'add', '-q', tree).status).toBe(0);
    expect((await local(tree).run(['hook', 'install'])).code).toBe(0);
    expect(fs.existsSync(path.join(repo, '.git/hooks/pre-commit'))).toBe(true);
  });

  it('pre-push refuses to push commits that touch a path another agent holds', async () => {
    const remote = tempDir('harn-remote-');
    git(remote, 'init', '-q', '--bare');
    const repo = gitRepo();
    git(repo, 'remote', 'add', 'origin', remote);
    fs.writeFileSync(path.join(repo, 'base.txt'), 'x');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'base');
    expect(git(repo, 'push', '-q', 'origin', 'main').status).toBe(0);
    expect((await local(repo).run(['hook', 'install'])).code).toBe(0);
    fs.writeFileSync(path.join(repo, 'pushed file.txt'), 'y');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'change', '--no-verify');
    expect((await local(repo).run(['lock', 'pushed file.txt', '--agent', '4', '--ttl', '1h'], LONG_LIVED)).code).toBe(0);
    const refused = spawnSync('git', ['push', '-q', 'origin', 'main'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/pushed file\.txt: held by agent 4/);
    expect((await local(repo).run(['release', 'pushed file.txt', '--agent', '4'])).code).toBe(0);
    const pushed = spawnSync('git', ['push', '-q', 'origin', 'main'], { cwd: repo, encoding: 'utf8', env: hookEnv(repo) });
    expect(pushed.status, pushed.stderr).toBe(0);
  });
});

describe('with-lock', () => {
  it('runs the command holding the locks, exits with its code, then releases and unregisters', async () => {
    const probe = `${process.execPath} ${BIN} --json holder data.db`;
    const result = run(['with-lock', 'data.db', '--', 'sh', '-c', `${probe}; exit 7`]);
    expect(result.code).toBe(7);
    const seen = JSON.parse(result.stdout);
    expect(seen[0].holders[0].agent.name).toBe('with-lock: sh');
    expect((await local().run(['holder', 'data.db'])).code).toBe(1);
    expect(readState(ws).agents).toEqual([]);
    const log = (await local().json(['log'])).data;
    expect(log.events[0]).toMatchObject({ type: 'with-lock', paths: ['data.db'], exit_code: 7, program: 'sh' });
    expect(log.events[0]).not.toHaveProperty('command');
  });

  it('from a subdirectory, locks and releases the path as the user names it', async () => {
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.mkdirSync(path.join(ws, 'sub'));
    const probe = `${process.execPath} ${BIN} --json holder a.ts`;
    const result = cli(['with-lock', 'a.ts', '--', 'sh', '-c', probe], { cwd: path.join(ws, 'sub') });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)[0]).toMatchObject({ path: 'sub/a.ts', holders: [{ path: 'sub/a.ts' }] });
    expect((await local().json(['status', '--all'])).data.agents).toEqual([]);
  });

  it('with an agent given, holds the locks as that agent and keeps it registered', async () => {
    expect((await local().run(['register', 'builder'], LONG_LIVED)).code).toBe(0);
    expect(run(['with-lock', 'out/', '--agent', '1', '--', 'true']).code).toBe(0);
    expect(readState(ws).agents.map((a) => [a.id, a.locked_paths])).toEqual([[1, {}]]);
  });

  it('forwards SIGTERM to the command and still releases', async () => {
    const child = spawn(process.execPath, [BIN, 'with-lock', 'data.db', '--', 'sh', '-c', 'echo started; sleep 30'], { cwd: ws, env: cleanEnv() });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(128 + 15);
    expect((await local().run(['holder', 'data.db'])).code).toBe(1);
    expect(readState(ws).agents).toEqual([]);
  });

});

describe('status --watch', () => {
  it('--watch redraws until SIGINT, then exits 0', async () => {
    expect((await local().run(['lock', 'w.ts', '--agent', '1', '--ttl', '1h'], LONG_LIVED)).code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'status', '--watch', '--interval', '100ms'], { cwd: ws, env: cleanEnv() });
    const frames = (text: string): number => text.match(/^1\tagent-1\tactive\t/gm)?.length ?? 0;
    let out = '';
    // Stop once three frames have arrived, however long a loaded machine takes to draw them.
    const threeFrames = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (frames(out) >= 3) resolve();
      }),
    );
    await threeFrames;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(frames(out)).toBeGreaterThanOrEqual(3);
    // Into a pipe each frame is tab-separated rows, no box and no screen-clearing codes.
    expect(out).not.toMatch(/[│┌\x1b]/);
  });
});
