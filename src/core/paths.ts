import path from 'node:path';
import { usageError } from './errors.js';

/**
 * Normalise a lock path given by a user to its stored form: workspace-relative, `/`-separated, with `.` and
 * `..` folded. `\` is read as a separator. A trailing separator is kept (`src/api/`): it marks a directory
 * lock, which covers everything under it. Relative input is taken from `cwd`; absolute input must lie inside
 * `root`. Empty input, the workspace root itself, and anything outside it are bad input.
 *
 * Both `cwd` and `root` are absolute, already-resolved directories. Symlinks are not followed: the locked
 * file need not exist.
 */
export function normaliseLockPath(input: string, cwd: string, root: string): string {
  if (input.length === 0) throw usageError('a path must not be empty');
  if (input.includes('\0')) throw usageError('a path must not contain a NUL byte');
  const slashed = input.replaceAll('\\', '/');
  const absolute = path.posix.resolve(toPosix(cwd), slashed);
  const relative = path.posix.relative(toPosix(root), absolute);
  if (relative === '') throw usageError(`'${input}' is the workspace root itself, not a path inside it`);
  if (relative === '..' || relative.startsWith('../') || path.posix.isAbsolute(relative)) {
    throw usageError(`'${input}' is outside the workspace ${root}`);
  }
  return slashed.endsWith('/') ? `${relative}/` : relative;
}

function toPosix(dir: string): string {
  return path.sep === '/' ? dir : dir.replaceAll(path.sep, '/');
}

/** Normalise several paths, dropping duplicates while keeping the order they were given in. */
export function normaliseLockPaths(inputs: readonly string[], cwd: string, root: string): string[] {
  return [...new Set(inputs.map((input) => normaliseLockPath(input, cwd, root)))];
}
