import fs from 'node:fs';
import path from 'node:path';
import { usageError } from './errors.js';
import { isPattern, patternProblem } from './glob.js';
import { MAX_PATH_BYTES } from './validate.js';

/** The refusal of a path over MAX_PATH_BYTES, naming its start (not all of it: it may be megabytes). */
export const pathTooLong = (stored: string) =>
  usageError(`the path '${stored.slice(0, 60)}...' is ${Buffer.byteLength(stored)} bytes; a lock path may be at most ${MAX_PATH_BYTES} bytes (UTF-8, relative to the workspace)`);

/**
 * Normalise a lock path given by a user to its stored form: workspace-relative, `/`-separated, with `.` and
 * `..` folded. `\` is read as a separator. A trailing separator is kept (`src/api/`): it marks a directory
 * lock, which covers everything under it. Relative input is taken from `cwd`; absolute input must lie inside
 * `root`. Empty input, the workspace root itself, and anything outside it are bad input.
 *
 * Both `cwd` and `root` are absolute, already-resolved directories. The locked file need not exist and is
 * never followed; its existing directories are resolved, so a symlinked directory inside the workspace
 * gives no second name for a file, and an absolute path reached through a symlink is recognised.
 */
export function normaliseLockPath(input: string, cwd: string, root: string): string {
  if (input.length === 0) throw usageError('a path must not be empty');
  if (input.includes('\0')) throw usageError('a path must not contain a NUL byte');
  const slashed = input.replaceAll('\\', '/');
  const absolute = path.posix.resolve(toPosix(cwd), slashed);
  let relative = path.posix.relative(toPosix(root), absolute);
  // An absolute path reached through a symlinked directory ($PWD under macOS's /var, a symlinked checkout)
  // names the workspace by another spelling: try its existing directories' real path before refusing.
  if (outside(relative)) relative = path.posix.relative(toPosix(root), realExistingPrefix(absolute));
  if (relative === '') throw usageError(`'${input}' is the workspace root itself, not a path inside it`);
  if (outside(relative)) throw usageError(`'${input}' is outside the workspace ${root}`);
  // One file, one lock name: a directory reached through a symlink inside the workspace is named by its
  // real path (as git names the file), so `link/a.ts` and `real/a.ts` are one lock. The file itself (or a
  // directory lock's own last component, if it is not an existing directory) need not exist.
  const directory = slashed.endsWith('/');
  const real = path.posix.relative(toPosix(root), realDirectories(path.posix.join(toPosix(root), relative), directory));
  if (real !== relative) {
    if (real === '') throw usageError(`'${input}' is the workspace root itself (through a symbolic link), not a path inside it`);
    if (outside(real)) throw usageError(`'${input}' is outside the workspace ${root} (through a symbolic link to ${realExistingPrefix(path.posix.join(toPosix(root), relative))})`);
    relative = real;
  }
  const stored = directory ? `${relative}/` : relative;
  if (Buffer.byteLength(stored) > MAX_PATH_BYTES) throw pathTooLong(stored);
  return stored;
}

const outside = (relative: string): boolean => relative === '..' || relative.startsWith('../') || path.posix.isAbsolute(relative);

/**
 * `absolute` with its longest existing directory prefix replaced by that directory's real path; the rest
 * (which need not exist) is kept as written. The one place paths touch the filesystem.
 */
export function realExistingPrefix(absolute: string): string {
  const rest: string[] = [];
  for (let dir = absolute; ; dir = path.posix.dirname(dir)) {
    // Asked first without throwing: a lock path's directories often do not exist yet, and an exception per
    // missing level costs a long-lived client more than the lookups themselves.
    let exists = false;
    try {
      exists = fs.statSync(dir, { throwIfNoEntry: false }) !== undefined;
    } catch {
      // ELOOP, EACCES, ENOTDIR...: not resolvable, as a missing level (as before issue 23).
    }
    if (exists) {
      try {
        const real = toPosix(fs.realpathSync.native(dir));
        return rest.length ? path.posix.join(real, ...rest.reverse()) : real;
      } catch {
        // Gone meanwhile, or not resolvable (a loop, no permission): as a missing level.
      }
    }
    if (path.posix.dirname(dir) === dir) return absolute;
    rest.push(path.posix.basename(dir));
  }
}

/** `absolute` with its existing directories resolved: all of it for a directory lock, else all but the file. */
function realDirectories(absolute: string, directory: boolean): string {
  if (directory) return realExistingPrefix(absolute);
  return path.posix.join(realExistingPrefix(path.posix.dirname(absolute)), path.posix.basename(absolute));
}

function toPosix(dir: string): string {
  return path.sep === '/' ? dir : dir.replaceAll(path.sep, '/');
}

/** The longest resource name after its `@`. */
export const MAX_RESOURCE_NAME = 256;

/**
 * Normalise a lock key given by a user: a resource (`@name`) is taken as written (a name, not a path); a
 * pattern (`*`, `?`, `[`) is normalised as a path and must be one git's wildmatch accepts, naming files (no
 * trailing `/`); anything else is a path (`normaliseLockPath`).
 */
export function normaliseLockKey(input: string, cwd: string, root: string): string {
  if (input.startsWith('@')) {
    const name = input.slice(1);
    if (name.length === 0) throw usageError("a resource needs a name after its @ (e.g. @gpu)");
    if (name.length > MAX_RESOURCE_NAME) throw usageError(`a resource name is at most ${MAX_RESOURCE_NAME} characters`);
    if (/[\u0000-\u001f\u007f\s]/.test(name)) throw usageError(`'${input.replace(/[\u0000-\u001f\u007f]/g, '?')}': a resource name has no spaces or control characters`);
    return input;
  }
  const key = normaliseLockPath(input, cwd, root);
  if (!isPattern(key)) return key;
  if (key.endsWith('/')) {
    throw usageError(`'${input}': a pattern names files, not directories; to lock what is under the directories it matches, end it with /** (e.g. src/*/**)`);
  }
  const problem = patternProblem(key);
  if (problem) throw usageError(`'${input}' is not a pattern git accepts: it has ${problem}; to lock a *, ? or [ literally, write it in brackets ([*], [?], [[])`);
  return key;
}

/** Normalise several lock keys (paths, patterns, resources), dropping duplicates while keeping their order. */
export function normaliseLockPaths(inputs: readonly string[], cwd: string, root: string): string[] {
  return [...new Set(inputs.map((input) => normaliseLockKey(input, cwd, root)))];
}
