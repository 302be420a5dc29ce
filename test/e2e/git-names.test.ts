import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 21: every file name read from git is read NUL-separated, and every directory git prints is taken
// as printed: a newline or a trailing space is part of a name, never a separator to split or trim.

const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const env = cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN });
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env });

const EVIL = 'evil\nname.ts';

describe('file names from git', () => {
  it('check --pre-push: a pushed, locked file named evil\\nname.ts is refused', () => {
    const ws = path.join(tempDir('harn-names-'), 'app');
    fs.mkdirSync(ws);
    git(ws, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(ws, 'base.ts'), 'b\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    const base = git(ws, 'rev-parse', 'HEAD').stdout.trim();
    fs.writeFileSync(path.join(ws, EVIL), 'x\n');
    fs.writeFileSync(path.join(ws, 'other.ts'), 'o\n');
    git(ws, 'add', '-A');
    expect(git(ws, 'commit', '-qm', 'evil').status).toBe(0);
    const head = git(ws, 'rev-parse', 'HEAD').stdout.trim();
    expect(cli(['lock', EVIL, '--agent', '1', '--ttl', '1h'], { cwd: ws }).code).toBe(0);
    const pushed = cli(['--json', 'check', '--pre-push'], { cwd: ws, input: `refs/heads/main ${head} refs/heads/main ${base}\n`, env: { HARN_AGENT_ID: '2' } });
    expect(pushed.code, pushed.stderr).toBe(1);
    expect(JSON.parse(pushed.stdout).conflicts).toMatchObject([{ path: EVIL, holders: [{ agent: { id: 1 } }] }]);
    // Under the pre-commit framework's range variables too.
    const framework = cli(['--json', 'check', '--pre-push'], { cwd: ws, env: { HARN_AGENT_ID: '2', PRE_COMMIT_FROM_REF: base, PRE_COMMIT_TO_REF: head } });
    expect(framework.code, framework.stderr).toBe(1);
    expect(JSON.parse(framework.stdout).checked).toBe(2);
  });

  it('a repository whose directory name ends in a space: check --staged and --changed find the staged locked file', () => {
    const ws = path.join(tempDir('harn-names-'), 'app ');
    fs.mkdirSync(ws);
    git(ws, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(ws, 'a.ts'), 'a\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'a');
    expect(cli(['lock', 'a.ts', '--agent', '1', '--ttl', '1h'], { cwd: ws }).code).toBe(0);
    fs.appendFileSync(path.join(ws, 'a.ts'), 'b\n');
    git(ws, 'add', '-A');
    const staged = cli(['--json', 'check', '--staged'], { cwd: ws, env: { HARN_AGENT_ID: '2' } });
    expect(staged.code, staged.stderr).toBe(1);
    expect(JSON.parse(staged.stdout).conflicts).toMatchObject([{ path: 'a.ts' }]);
    const changed = cli(['--json', 'check', '--changed', 'HEAD'], { cwd: ws, env: { HARN_AGENT_ID: '2' } });
    expect(changed.code, changed.stderr).toBe(1);
  });
});
