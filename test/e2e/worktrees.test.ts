import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, readState, statePath, tempDir } from '../helpers/cli.js';

// Issue 13: every worktree of a repository shares one registry, paths are repository-relative, agents
// record where they come from, and a process tree is never refused by its own agent's locks.

const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const gitEnv = (extra: Record<string, string> = {}) => cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN, ...extra });
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: gitEnv() });

/** A repository with one commit (src/api.ts, a.ts) and two linked worktrees on their own branches. */
function repoWithWorktrees(): { main: string; a: string; b: string } {
  const base = tempDir('harn-wt-');
  const main = path.join(base, 'app');
  fs.mkdirSync(path.join(main, 'src'), { recursive: true });
  git(main, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(main, 'src/api.ts'), 'api\n');
  fs.writeFileSync(path.join(main, 'a.ts'), 'a\n');
  git(main, 'add', '.');
  expect(git(main, 'commit', '-qm', 'init').status).toBe(0);
  const a = path.join(base, 'app-feature-a');
  const b = path.join(base, 'app-feature-b');
  expect(git(main, 'worktree', 'add', '-q', '-b', 'feature-a', a).status).toBe(0);
  expect(git(main, 'worktree', 'add', '-q', '-b', 'feature-b', b).status).toBe(0);
  return { main, a, b };
}

describe('one registry per repository, across its worktrees', () => {
  it('two linked worktrees refuse each other\'s locks, share the main worktree\'s .harn/, and status shows both', () => {
    const { main, a, b } = repoWithWorktrees();
    const idA = cli(['register', 'agent-a'], { cwd: a }).stdout.trim();
    const idB = cli(['register', 'agent-b'], { cwd: path.join(b, 'src') }).stdout.trim();
    expect(cli(['lock', 'src/api.ts', '--agent', idA], { cwd: a }).code).toBe(0);
    // The same repository-relative path, given from a subdirectory of the other worktree.
    const refused = cli(['lock', 'api.ts', '--agent', idB], { cwd: path.join(b, 'src') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/src\/api\.ts is held by agent \d+ \(agent-a\)/);
    expect(cli(['holder', path.join(b, 'src/api.ts')], { cwd: b }).code).toBe(0);
    expect(cli(['lock', 'a.ts', '--agent', idB], { cwd: b }).code).toBe(0);
    expect(cli(['lock', 'a.ts', '--agent', idA], { cwd: a }).code).toBe(1);
    // One state file, in the main worktree; none in the linked ones.
    expect(fs.existsSync(statePath(main))).toBe(true);
    expect(fs.existsSync(path.join(a, '.harn'))).toBe(false);
    expect(fs.existsSync(path.join(b, '.harn'))).toBe(false);
    expect(readState(main).agents.map((x) => Object.keys(x.locked_paths))).toEqual([['src/api.ts'], ['a.ts']]);
    const status = JSON.parse(cli(['--json', 'status'], { cwd: main }).stdout);
    expect(status.workspace).toBe(main);
    expect(status.agents.map((x: { name: string; worktree: string; branch: string }) => [x.name, x.worktree, x.branch])).toEqual([
      ['agent-a', a, 'feature-a'],
      ['agent-b', b, 'feature-b'],
    ]);
    const table = cli(['status', '--table'], { cwd: b }).stdout;
    expect(table).toMatch(/│ worktree +│/);
    expect(table).toMatch(/\.\.\/app-feature-a \(feature-a\)/);
    expect(table).toMatch(/\.\.\/app-feature-b \(feature-b\)/);
  });

  it('the installed hook in a linked worktree refuses a commit of a path another worktree\'s agent holds', () => {
    const { main, a, b } = repoWithWorktrees();
    expect(cli(['hook', 'install'], { cwd: a }).code).toBe(0);
    const idA = cli(['register', 'agent-a'], { cwd: a }).stdout.trim();
    expect(cli(['lock', 'src/api.ts', '--agent', idA, '--ttl', '10m'], { cwd: a }).code).toBe(0);
    fs.appendFileSync(path.join(b, 'src/api.ts'), 'b\n');
    git(b, 'add', 'src/api.ts');
    const refused = spawnSync('git', ['commit', '-qm', 'b'], { cwd: path.join(b, 'src'), encoding: 'utf8', env: gitEnv() });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/src\/api\.ts: held by agent \d+ \(agent-a\)/);
    expect(refused.stderr).toMatch(/commit only your own files: git restore --staged src\/api\.ts, then commit again/);
    const asHolder = spawnSync('git', ['commit', '-qm', 'b'], { cwd: b, encoding: 'utf8', env: gitEnv({ HARN_AGENT_ID: idA }) });
    expect(asHolder.status, asHolder.stderr).toBe(0);
    expect(fs.existsSync(path.join(b, '.harn'))).toBe(false);
    expect(readState(main).agents).toHaveLength(1);
  });

  it('HARN_WORKSPACE still gives a worktree a registry of its own', () => {
    const { main, a } = repoWithWorktrees();
    expect(cli(['lock', 'a.ts', '--agent', '1'], { cwd: a, env: { HARN_WORKSPACE: a } }).code).toBe(0);
    expect(fs.existsSync(statePath(a))).toBe(true);
    expect(fs.existsSync(statePath(main))).toBe(false);
    expect(cli(['lock', 'a.ts', '--agent', '2'], { cwd: a }).code).toBe(0);
  });

  it('a forged .git file whose link git does not confirm is not followed', () => {
    const { main } = repoWithWorktrees();
    const other = tempDir('harn-forged-');
    // Points at a real worktree's git directory, but that directory's back link names another worktree.
    fs.writeFileSync(path.join(other, '.git'), `gitdir: ${path.join(main, '.git/worktrees/app-feature-a')}\n`);
    expect(cli(['lock', 'x.ts', '--agent', '1'], { cwd: other }).code).toBe(0);
    expect(fs.existsSync(statePath(other))).toBe(true);
    expect(fs.existsSync(statePath(main))).toBe(false);
  });
});

describe('an agent recognises itself', () => {
  it("a process tree's git commit is allowed under its own with-lock, while another process tree's commit is refused", async () => {
    const { main, b } = repoWithWorktrees();
    expect(cli(['hook', 'install'], { cwd: main }).code).toBe(0);
    const marks = tempDir('harn-marks-');
    const committed = path.join(marks, 'committed');
    const done = path.join(marks, 'done');
    // The parent: one node process that holds a.ts through a long-lived harn-agents (with-lock) and, from
    // its command, runs git commit through the installed hook, as an AI client runs its shell tool.
    const parent = path.join(marks, 'parent.mjs');
    fs.writeFileSync(
      parent,
      `import { spawnSync } from 'node:child_process';
const script = 'git commit -qm mine && : > "$COMMITTED" && while [ ! -e "$DONE" ]; do sleep 0.05; done';
const run = spawnSync(process.execPath, [${JSON.stringify(BIN)}, 'with-lock', 'a.ts', '--ttl', '10m', '--', 'sh', '-c', script], { stdio: 'inherit' });
process.exit(run.status ?? 99);
`,
    );
    fs.appendFileSync(path.join(main, 'a.ts'), 'mine\n');
    git(main, 'add', 'a.ts');
    let stderr = '';
    const child = spawn(process.execPath, [parent], { cwd: main, env: gitEnv({ COMMITTED: committed, DONE: done }), stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // Wait for the event (the own commit went through), not for an amount of time.
      while (!fs.existsSync(committed) && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(fs.existsSync(committed), stderr).toBe(true);
      expect(git(main, 'log', '--format=%s', '-1').stdout.trim()).toBe('mine');
      // Still held, by with-lock's agent, which recorded its process.
      const held = JSON.parse(cli(['--json', 'status'], { cwd: main }).stdout).agents;
      expect(held).toHaveLength(1);
      expect(held[0].locks.map((l: { path: string }) => l.path)).toEqual(['a.ts']);
      expect(readState(main).agents[0]?.name).toBe('with-lock: sh');
      // Another process tree (this test's) commits the same path from another worktree: refused.
      fs.appendFileSync(path.join(b, 'a.ts'), 'theirs\n');
      git(b, 'add', 'a.ts');
      const other = spawnSync('git', ['commit', '-qm', 'theirs'], { cwd: b, encoding: 'utf8', env: gitEnv() });
      expect(other.status).toBe(1);
      expect(other.stderr).toMatch(/a\.ts: held by agent \d+ \(with-lock: sh\)/);
      // And `check` from outside the tree recognises nobody.
      expect(JSON.parse(cli(['--json', 'check', 'a.ts'], { cwd: main }).stdout)).toMatchObject({ recognised: [], conflicts: [{ path: 'a.ts' }] });
    } finally {
      fs.writeFileSync(done, '');
    }
    expect(await exited, stderr).toBe(0);
    expect(readState(main).agents).toEqual([]);
  });
});

describe('recognising a process, in-process', () => {
  it('matches pid and start time (a reused pid is someone else), and an explicit agent wins', async () => {
    const { openRegistry } = await import('../../src/api/index.js');
    const { openContext, registryConfig } = await import('../../src/commands/create-context.js');
    const { check } = await import('../../src/commands/check.js');
    const ws = tempDir();
    const registry = openRegistry({ cwd: ws });
    // The library records a client process by its pid; its start time is read from /proc.
    const { id } = await registry.register('client', { clientPid: process.pid });
    await registry.lock(['a.ts'], { agent: id, ttl: '10m' });
    const recorded = JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).harn.agents[String(id)].process;
    const hasProc = fs.existsSync('/proc/self/stat');
    if (!hasProc) expect(recorded).toBeUndefined();
    if (!hasProc) return;
    expect(recorded.pid).toBe(process.pid);
    const ctx = openContext({ cwd: ws, config: registryConfig({}) });
    const ask = (ancestry: Array<{ pid: number; start: number }>, agent: number | null = null) => check(ctx, { paths: ['a.ts'], agent, guard: 'on', ancestry });
    expect(await ask([{ pid: 1, start: 0 }, { pid: process.pid, start: recorded.start }])).toMatchObject({ recognised: [id], conflicts: [] });
    expect(await ask([{ pid: process.pid, start: recorded.start + 1 }])).toMatchObject({ recognised: [], conflicts: [{ path: 'a.ts' }] });
    expect(await ask([{ pid: process.pid, start: recorded.start }], 99)).toMatchObject({ recognised: [], conflicts: [{ path: 'a.ts' }] });
    // With the real ancestry: this very process is the recorded one.
    expect(await registry.check(['a.ts'])).toMatchObject({ recognised: [id], conflicts: [] });
  });
});
