import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, statePath, tempDir } from '../helpers/cli.js';

// Issue 21: workspace discovery is as strict as git. A .git file links a linked worktree only as git makes
// one; a .harn/ below a repository's top-level is never a second registry.

const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const gitEnv = (extra: Record<string, string> = {}) => cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN, ...extra });
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: gitEnv() });

function repo(files: Record<string, string>): string {
  const dir = path.join(tempDir('harn-forge-'), 'app');
  fs.mkdirSync(dir);
  git(dir, 'init', '-q', '-b', 'main');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  git(dir, 'add', '-A');
  expect(git(dir, 'commit', '-qm', 'init').status).toBe(0);
  return dir;
}

describe('workspace discovery as strict as git', () => {
  it("an untarred tree whose .git names its own gitmeta/ (commondir: another repository) is not that repository's worktree", () => {
    const victim = repo({ 'api.ts': 'api\n' });
    const holder = cli(['register', 'victim'], { cwd: victim }).stdout.trim();
    expect(cli(['lock', 'api.ts', '--agent', holder, '--ttl', '1h'], { cwd: victim }).code).toBe(0);
    // The forged tree, as a tarball would bring it.
    const tree = tempDir('harn-tree-');
    fs.mkdirSync(path.join(tree, 'gitmeta'));
    fs.writeFileSync(path.join(tree, '.git'), 'gitdir: ./gitmeta\n');
    fs.writeFileSync(path.join(tree, 'gitmeta/commondir'), `${path.join(victim, '.git')}\n`);
    fs.writeFileSync(path.join(tree, 'gitmeta/gitdir'), `${path.join(tree, '.git')}\n`);
    fs.writeFileSync(path.join(tree, 'gitmeta/HEAD'), 'ref: refs/heads/main\n');
    const status = JSON.parse(cli(['--json', 'status'], { cwd: tree }).stdout);
    expect(status.workspace).toBe(tree);
    expect(status.agents).toEqual([]);
    // release --force there breaks nothing of the victim's.
    cli(['release', 'api.ts', '--force', '--reason', 'forged'], { cwd: tree });
    expect(JSON.parse(cli(['--json', 'holder', 'api.ts'], { cwd: victim }).stdout)).toMatchObject([{ path: 'api.ts', holders: [{ agent: { id: Number(holder) } }] }]);
    expect(fs.existsSync(statePath(victim))).toBe(true);
  });

  it('a real linked worktree still shares its repository registry', () => {
    const main = repo({ 'a.ts': 'a\n' });
    const linked = path.join(path.dirname(main), 'linked');
    expect(git(main, 'worktree', 'add', '-q', '-b', 'feature', linked).status).toBe(0);
    expect(JSON.parse(cli(['--json', 'status'], { cwd: linked }).stdout).workspace).toBe(main);
  });

  it("a clone committing src/.harn/ has one registry: a lock taken from src/ is the top's, and another agent's commit of it is refused", () => {
    const top = repo({ 'src/api.ts': 'api\n', 'src/.harn/README': 'planted\n' });
    expect(cli(['hook', 'install'], { cwd: top }).code).toBe(0);
    const locked = cli(['lock', 'api.ts', '--agent', '1', '--ttl', '1h'], { cwd: path.join(top, 'src') });
    expect(locked.code).toBe(0);
    expect(locked.stderr.split('\n')[0]).toBe(
      `harn-agents: warning: ignoring ${path.join(top, 'src/.harn')}: a .harn below the repository's top-level is never a registry of its own; this call uses ${path.join(top, '.harn')}`,
    );
    expect(fs.readdirSync(path.join(top, 'src/.harn'))).toEqual(['README']);
    expect(JSON.parse(cli(['--json', 'holder', 'src/api.ts'], { cwd: top }).stdout)).toMatchObject([{ path: 'src/api.ts', holders: [{ agent: { id: 1 } }] }]);
    fs.appendFileSync(path.join(top, 'src/api.ts'), 'theirs\n');
    git(top, 'add', '-A');
    const commit = spawnSync('git', ['commit', '-qm', 'theirs'], { cwd: top, encoding: 'utf8', env: gitEnv({ HARN_AGENT_ID: '2' }) });
    expect(commit.status).toBe(1);
    expect(commit.stderr).toMatch(/src\/api\.ts: held by agent 1/);
  });
});
