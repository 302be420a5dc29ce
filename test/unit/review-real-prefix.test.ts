import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realExistingPrefix } from '../../src/core/paths.js';

// Review of issue 23: realExistingPrefix used to treat any unresolvable level (a symlink loop, a directory
// it may not search) as missing; statSync throws ELOOP and EACCES (throwIfNoEntry only spares ENOENT).
describe('realExistingPrefix on a level that cannot be resolved', () => {
  let dir = '';
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  it('treats a symlink loop as a missing level', () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'harn-loop-')));
    fs.symlinkSync('loop2', path.join(dir, 'loop1'));
    fs.symlinkSync('loop1', path.join(dir, 'loop2'));
    expect(realExistingPrefix(path.join(dir, 'loop1', 'x'))).toBe(path.join(dir, 'loop1', 'x'));
  });
});
