import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { normaliseLockPath } from '../../src/core/paths.js';

// Issue 14: an absolute $PWD reached through a symlinked directory (macOS's /var -> /private/var, a symlinked
// checkout) names a path inside the workspace by another spelling.
describe('absolute paths through a symlinked directory', () => {
  const base = tempDir('harn-paths-');
  const root = path.join(base, 'repo');
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  const link = path.join(base, 'link');
  fs.symlinkSync(root, link);
  const outsideDir = path.join(base, 'elsewhere');
  fs.mkdirSync(outsideDir);

  it('are accepted and stored as the workspace-relative path, for files that need not exist', () => {
    expect(normaliseLockPath(path.join(link, 'src/a.ts'), root, root)).toBe('src/a.ts');
    expect(normaliseLockPath(path.join(link, 'src/new/deep/b.ts'), root, root)).toBe('src/new/deep/b.ts');
    expect(normaliseLockPath(`${path.join(link, 'src')}/`, root, root)).toBe('src/');
  });

  it('a path outside stays refused, through a symlink or not', () => {
    expect(() => normaliseLockPath(path.join(outsideDir, 'a.ts'), root, root)).toThrow(/outside the workspace/);
    fs.symlinkSync(outsideDir, path.join(base, 'link-out'));
    expect(() => normaliseLockPath(path.join(base, 'link-out', 'a.ts'), root, root)).toThrow(/outside the workspace/);
    expect(() => normaliseLockPath(link, root, root)).toThrow(/the workspace root itself/);
  });
});
