import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 21: one file, one lock name. A path through a symlinked directory inside the workspace locks the
// file's real path, so two agents cannot hold one file under two names, and the hooks (which see git's
// name, the real one) check that same name.

const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN }) });

function repoWithLink(): string {
  const ws = path.join(tempDir('harn-link-'), 'app');
  fs.mkdirSync(path.join(ws, 'real'), { recursive: true });
  git(ws, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(ws, 'real/a.ts'), 'a\n');
  fs.symlinkSync('real', path.join(ws, 'link'));
  git(ws, 'add', '-A');
  expect(git(ws, 'commit', '-qm', 'init').status).toBe(0);
  return ws;
}

describe('one file, one lock name', () => {
  it('link/a.ts and real/a.ts are one lock: the second agent is refused, whichever name it uses', () => {
    const ws = repoWithLink();
    const first = cli(['--json', 'lock', 'link/a.ts', '--agent', '1', '--ttl', '1h'], { cwd: ws });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).locks).toMatchObject([{ path: 'real/a.ts' }]);
    const second = cli(['lock', 'real/a.ts', '--agent', '2'], { cwd: ws });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/real\/a\.ts is held by agent 1/);
    expect(cli(['lock', 'link/a.ts', '--agent', '2'], { cwd: ws }).code).toBe(1);
    expect(cli(['lock', 'link/', '--agent', '2'], { cwd: ws }).code).toBe(1); // the directory, by its link
    expect(cli(['holder', 'link/a.ts'], { cwd: ws }).code).toBe(0);
    // From inside the linked directory too.
    expect(cli(['lock', 'a.ts', '--agent', '2'], { cwd: path.join(ws, 'link') }).code).toBe(1);
  });

  it("the commit hook checks the same name: another agent's commit of the file is refused", () => {
    const ws = repoWithLink();
    expect(cli(['hook', 'install'], { cwd: ws }).code).toBe(0);
    expect(cli(['lock', 'link/a.ts', '--agent', '1', '--ttl', '1h'], { cwd: ws }).code).toBe(0);
    fs.appendFileSync(path.join(ws, 'link/a.ts'), 'b\n');
    git(ws, 'add', '-A');
    const commit = spawnSync('git', ['commit', '-qm', 'b'], { cwd: ws, encoding: 'utf8', env: cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN, HARN_AGENT_ID: '2' }) });
    expect(commit.status).toBe(1);
    expect(commit.stderr).toMatch(/real\/a\.ts: held by agent 1/);
  });

  it('a symlinked directory pointing outside the workspace is refused, naming where it leads', () => {
    const ws = repoWithLink();
    const outside = tempDir('harn-outside-');
    fs.symlinkSync(outside, path.join(ws, 'out'));
    const result = cli(['lock', 'out/x.ts', '--agent', '1'], { cwd: ws });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`harn-agents: 'out/x.ts' is outside the workspace ${ws} (through a symbolic link to ${outside}/x.ts)\n`);
  });
});
