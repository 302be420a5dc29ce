import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readRegular } from '../../src/store/safe-fs.js';
import { cli, tempDir } from '../helpers/cli.js';

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
