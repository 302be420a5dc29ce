import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readRegular } from '../../src/store/safe-fs.js';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// A cloned repository may commit its hook managers' and agents' configuration as symlinks to files outside
// it: `hook install` must never write through one.
describe('hook install never writes through a committed symlink', () => {
  it('.claude/settings.json linked to a JSON file outside: exit 3 naming it, the outside file byte for byte', () => {
    const base = tempDir();
    const outside = path.join(base, 'outside.json');
    fs.writeFileSync(outside, '{"mine": true}\n');
    const repo = path.join(base, 'repo');
    fs.mkdirSync(path.join(repo, '.claude'), { recursive: true });
    spawnSync('git', ['init', '-q'], { cwd: repo });
    fs.symlinkSync(outside, path.join(repo, '.claude', 'settings.json'));
    const result = cli(['hook', 'install', '--claude-code'], { cwd: repo });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/settings\.json is a symbolic link, not a regular file; harn-agents did not write through it/);
    expect(fs.readFileSync(outside, 'utf8')).toBe('{"mine": true}\n');
  });

  it('a plain git hook that is a symlink to a file outside carrying our marker is not rewritten', () => {
    const base = tempDir();
    const outside = path.join(base, 'outside.sh');
    fs.writeFileSync(outside, '#!/bin/sh\n# harn-agents hook v1\necho old\n');
    const repo = path.join(base, 'repo');
    fs.mkdirSync(repo);
    spawnSync('git', ['init', '-q'], { cwd: repo });
    fs.symlinkSync(outside, path.join(repo, '.git', 'hooks', 'pre-commit'));
    const result = cli(['hook', 'install'], { cwd: repo });
    expect(result.code).toBe(3);
    expect(fs.readFileSync(outside, 'utf8')).toBe('#!/bin/sh\n# harn-agents hook v1\necho old\n');
  });

  it('a committed folder linked to one outside (.claude, a core.hooksPath folder): exit 3, nothing written there', () => {
    const base = tempDir();
    const outside = path.join(base, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'settings.json'), '{"mine": true}\n');
    const repo = path.join(base, 'repo');
    fs.mkdirSync(repo);
    spawnSync('git', ['init', '-q'], { cwd: repo });
    fs.symlinkSync(outside, path.join(repo, '.claude'));
    const claude = cli(['hook', 'install', '--claude-code'], { cwd: repo });
    expect(claude.code, claude.stderr).toBe(3);
    expect(claude.stderr).toMatch(/\.claude is a symbolic link; harn-agents did not write .*settings\.json through it/);
    fs.symlinkSync(outside, path.join(repo, 'githooks'));
    spawnSync('git', ['config', 'core.hooksPath', 'githooks'], { cwd: repo });
    const hooks = cli(['hook', 'install'], { cwd: repo });
    expect(hooks.code, hooks.stderr).toBe(3);
    expect(hooks.stderr).toMatch(/githooks is a symbolic link; harn-agents did not write .*pre-commit through it/);
    expect(fs.readdirSync(outside)).toEqual(['settings.json']);
    expect(fs.readFileSync(path.join(outside, 'settings.json'), 'utf8')).toBe('{"mine": true}\n');
    // Linked to a folder that does not exist yet: named the same way, and nothing is made there.
    const other = path.join(base, 'other');
    fs.mkdirSync(other);
    spawnSync('git', ['init', '-q'], { cwd: other });
    fs.symlinkSync(path.join(outside, 'new'), path.join(other, '.claude'));
    const dangling = cli(['hook', 'install', '--claude-code'], { cwd: other });
    expect(dangling.code, dangling.stderr).toBe(3);
    expect(dangling.stderr).toMatch(/\.claude is a symbolic link; harn-agents did not write/);
    expect(fs.readdirSync(outside)).toEqual(['settings.json']);
  });
});

// A hooks folder that comes with the clone (core.hooksPath inside the work tree, or husky's .husky/).
function hooksFolderRepo(): { base: string; repo: string; hooks: string } {
  const base = tempDir();
  const repo = path.join(base, 'repo');
  const hooks = path.join(repo, 'githooks');
  fs.mkdirSync(hooks, { recursive: true });
  spawnSync('git', ['init', '-q'], { cwd: repo });
  spawnSync('git', ['config', 'core.hooksPath', 'githooks'], { cwd: repo });
  return { base, repo, hooks };
}

describe('hook install reads hook files without hanging, and changes all of them or none', () => {
  it('a hook committed as a symlink to /dev/zero: exit 3 at once naming it, the other hook untouched', () => {
    const { repo, hooks } = hooksFolderRepo();
    const own = '#!/bin/sh\necho own pre-commit\n';
    fs.writeFileSync(path.join(hooks, 'pre-commit'), own);
    fs.symlinkSync('/dev/zero', path.join(hooks, 'pre-push'));
    // A hard limit: reading /dev/zero to its end would never finish (or fill memory first).
    const result = spawnSync(process.execPath, [BIN, 'hook', 'install'], { cwd: repo, env: cleanEnv(), encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect(result.signal, 'killed after 20 s: the call hung').toBeNull();
    expect(result.status, result.stderr).toBe(3);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/githooks\/pre-push is a character device, not a regular file; harn-agents did not read it/);
    expect(fs.readFileSync(path.join(hooks, 'pre-commit'), 'utf8')).toBe(own);
  });

  it('one hook a symlink to a file outside: exit 3, and the hook before it is not edited either', () => {
    const { base, repo, hooks } = hooksFolderRepo();
    const outside = path.join(base, 'outside.sh');
    fs.writeFileSync(outside, '#!/bin/sh\necho outside\n');
    const own = '#!/bin/sh\necho own pre-commit\n';
    fs.writeFileSync(path.join(hooks, 'pre-commit'), own);
    fs.symlinkSync(outside, path.join(hooks, 'pre-push'));
    const result = cli(['hook', 'install'], { cwd: repo });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/pre-push is a symbolic link, not a regular file; harn-agents did not write through it/);
    expect(fs.readFileSync(path.join(hooks, 'pre-commit'), 'utf8')).toBe(own);
    expect(fs.readFileSync(outside, 'utf8')).toBe('#!/bin/sh\necho outside\n');
    // Once the link is replaced by a regular file, the same install edits both.
    fs.rmSync(path.join(hooks, 'pre-push'));
    fs.writeFileSync(path.join(hooks, 'pre-push'), '#!/bin/sh\necho own pre-push\n');
    expect(cli(['hook', 'install'], { cwd: repo }).code).toBe(0);
    for (const name of ['pre-commit', 'pre-push']) expect(fs.readFileSync(path.join(hooks, name), 'utf8')).toMatch(/harn-agents check/);
  });
});

describe('the 64 MiB cap holds while a file is read, not only at open', () => {
  it('a file that grows past the cap after its size was checked is refused', () => {
    const dir = tempDir();
    const file = path.join(dir, 'agents.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 65 * 1024 * 1024);
    // The size check at open sees a small file (as it would just before the file grew).
    const real = fs.fstatSync;
    const spy = vi.spyOn(fs, 'fstatSync').mockImplementation(((fd: number) => Object.assign(real(fd), { size: 10 })) as typeof fs.fstatSync);
    try {
      expect(() => readRegular(file, { trusted: false })).toThrow(/larger than the 64 MiB any harn-agents file may be/);
    } finally {
      spy.mockRestore();
    }
  });
});
