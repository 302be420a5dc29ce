import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 21: `hook install` is all or nothing: every check comes before the first change, so a refusal (or
// a configuration it prints lines for instead of editing) leaves every file as it was.

const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv({ ...identity, HARN_AGENTS_BIN: BIN }) });

/** Every file under `dir` (symlinks as their target), with its content: what "nothing changed" compares. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, file);
    if (rel.startsWith(`.git${path.sep}`) && !rel.startsWith(`.git${path.sep}hooks`)) continue;
    out[rel] = entry.isSymbolicLink() ? `-> ${fs.readlinkSync(file)}` : entry.isFile() ? fs.readFileSync(file, 'utf8') : '<dir>';
  }
  return out;
}

describe('hook install, all or nothing', () => {
  it("a linked hooks folder (.git/hooks -> ../tools/hooks): refused, and the team's tracked pre-commit is neither renamed nor touched", () => {
    const ws = path.join(tempDir('harn-hooks-'), 'app');
    fs.mkdirSync(path.join(ws, 'tools/hooks'), { recursive: true });
    git(ws, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(ws, 'tools/hooks/pre-commit'), '#!/bin/sh\nnpm run lint\n', { mode: 0o755 });
    git(ws, 'add', '-A');
    expect(git(ws, 'commit', '-qm', 'team hooks').status).toBe(0);
    fs.rmSync(path.join(ws, '.git/hooks'), { recursive: true, force: true });
    fs.symlinkSync('../tools/hooks', path.join(ws, '.git/hooks'));
    const before = tree(ws);
    const result = cli(['hook', 'install'], { cwd: ws });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^harn-agents: .*\.git\/hooks is a symbolic link; harn-agents did not write .* through it/);
    expect(tree(ws)).toEqual(before);
    expect(git(ws, 'status', '--porcelain').stdout).toBe('');
  });

  it('an existing hook.harn-previous in the way: refused before pre-commit is touched', () => {
    const ws = tempDir('harn-hooks-');
    git(ws, 'init', '-q', '-b', 'main');
    const hooks = path.join(ws, '.git/hooks');
    fs.writeFileSync(path.join(hooks, 'pre-commit'), '#!/bin/sh\necho mine\n', { mode: 0o755 });
    fs.writeFileSync(path.join(hooks, 'pre-push'), '#!/bin/sh\necho push\n', { mode: 0o755 });
    fs.writeFileSync(path.join(hooks, 'pre-push.harn-previous'), '#!/bin/sh\necho older\n', { mode: 0o755 });
    const before = tree(ws);
    const result = cli(['hook', 'install'], { cwd: ws });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pre-push\.harn-previous already exists; move it away first so nothing is overwritten \(nothing was changed\)/);
    expect(tree(ws)).toEqual(before);
  });

  it('lefthook configured beyond safe editing: the lines are printed and an older plain install is left as it was', () => {
    const ws = tempDir('harn-hooks-');
    git(ws, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(ws, '.git/hooks/pre-commit'), '#!/bin/sh\necho team\n', { mode: 0o755 });
    expect(cli(['hook', 'install'], { cwd: ws }).code).toBe(0); // plain: the team hook kept as .harn-previous
    fs.writeFileSync(path.join(ws, 'lefthook.yml'), 'pre-commit: { commands: { lint: { run: "true" } } }\n');
    const before = tree(ws);
    const result = cli(['hook', 'install'], { cwd: ws });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^harn-agents: nothing was changed; add these lines by hand:/);
    expect(tree(ws)).toEqual(before);
  });
});
