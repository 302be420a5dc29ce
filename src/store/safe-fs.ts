import fs from 'node:fs';
import { isHarnError, stateError } from '../core/errors.js';
import { describeError, errorCode } from './fs-errors.js';

/**
 * Opening files under `.harn/`, which may be hostile (a committed symlink to ~/.bashrc, a FIFO that would
 * block a read forever, /dev/zero, another user's file). Every open here refuses to follow a symlink
 * (O_NOFOLLOW), never blocks on a FIFO (O_NONBLOCK), and accepts only a regular file: anything else is exit 3
 * with one line naming the path and what it is, before a byte is read or written.
 */

const { O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;

/** The parts of fs.Stats used here, declared locally so the library's types need no @types/node. */
export interface FileStats {
  readonly uid: number;
  readonly nlink: number;
  readonly size: number;
  readonly mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** What a filesystem entry is, in words, for messages ("a symbolic link", "a FIFO", ...). */
export function describeKind(stats: FileStats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** The refusal for a path that is not what harn-agents expects there. */
export function notRegularError(path: string, kind: string, expected = 'a regular file'): Error {
  return stateError(`${path} is ${kind}, not ${expected}; harn-agents does not follow or open it and wrote nothing (remove it, or see 'harn-agents doctor')`);
}

/** The caller's user id, or null where the platform has none (Windows). */
export const currentUid = (): number | null => (typeof process.geteuid === 'function' ? process.geteuid() : null);

/**
 * Who may own files under a workspace's `.harn/`: the caller, unless the workspace is trusted on purpose
 * (HARN_SAFE_DIRECTORIES, as git's safe.directory).
 */
export interface OwnerRule {
  readonly trusted: boolean;
}

export function checkOwner(path: string, stats: FileStats, rule: OwnerRule): void {
  const uid = currentUid();
  if (rule.trusted || uid === null || stats.uid === uid) return;
  throw stateError(
    `${path} is owned by ${userName(stats.uid)}, not by you (uid ${uid}); refusing to use another user's registry. ` +
      `To trust it on purpose, add its workspace to HARN_SAFE_DIRECTORIES (docs/cli.md)`,
  );
}

/** "user bob (uid 1001)", or "uid 1001" when /etc/passwd does not name it. */
export function userName(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return `user ${name} (uid ${uid})`;
    }
  } catch {
    // No passwd file to ask: the number alone still identifies the owner.
  }
  return `uid ${uid}`;
}

/**
 * The largest file harn-agents reads under `.harn/`: far above any real registry (10,000 agents with 100,000
 * locks take about 6 MB), far below what would exhaust a CI container's memory. A larger file costs
 * little in a git pack when it is sparse, so it is refused before it is read.
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** The refusal of a file over MAX_FILE_BYTES, found at open or while reading it. */
const tooLarge = (path: string): Error =>
  stateError(`${path} is larger than the ${MAX_FILE_BYTES / 1024 / 1024} MiB any harn-agents file may be; it was not read (see 'harn-agents doctor')`);

const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_RDWR;

/** A regular file we may append to: not hard-linked elsewhere (O_NOFOLLOW does not see hard links). */
export function checkSingleLink(path: string, stats: FileStats): void {
  if (stats.nlink > 1) {
    throw stateError(`${path} has ${stats.nlink} hard links, so writing to it would change a file elsewhere; harn-agents wrote nothing (remove it, or see 'harn-agents doctor')`);
  }
}

/**
 * Open an existing regular file without following a symlink and without blocking. `flags` adds the access
 * mode (O_RDONLY, O_WRONLY|O_APPEND, ...). Returns null when the file does not exist.
 */
export function openRegular(path: string, flags: number, rule: OwnerRule, mode = 0o666): { fd: number; stats: FileStats } | null {
  let fd: number;
  try {
    fd = fs.openSync(path, flags | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    // ELOOP: a symlink; ENXIO: a socket, or a FIFO opened for writing; EISDIR: a directory.
    const kind = lstatKind(path);
    if (kind && kind !== 'a regular file') throw notRegularError(path, kind);
    throw stateError(`cannot open ${path}: ${describeError(error)}`);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw notRegularError(path, describeKind(stats));
    checkOwner(path, stats, rule);
    if ((flags & WRITE_FLAGS) !== 0) checkSingleLink(path, stats);
    if (stats.size > MAX_FILE_BYTES) throw tooLarge(path);
    return { fd, stats };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** The whole text of a regular file, or null when there is none. */
export function readRegular(path: string, rule: OwnerRule): string | null {
  return readRegularWithStats(path, rule)?.text ?? null;
}

/** readRegular, with the file's stats as its open found them (the very file read: no second stat). */
export function readRegularWithStats(path: string, rule: OwnerRule): { text: string; stats: FileStats } | null {
  const opened = openRegular(path, fs.constants.O_RDONLY, rule);
  if (!opened) return null;
  const { fd, stats } = opened;
  try {
    return { text: readToEnd(fd, stats.size, MAX_FILE_BYTES, () => tooLarge(path)), stats };
  } catch (error) {
    if (isHarnError(error)) throw error;
    throw stateError(`cannot read ${path}: ${describeError(error)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A regular file a user named, or null when there is none. Unlike the files under `.harn/`, a symlink is
 * followed (hooks linked into a repository, a snapshot kept elsewhere), but what it names must be a regular
 * file of at most `maxBytes`, opened without blocking: a link to /dev/zero, a device or a FIFO is refused
 * at once, not read for ever.
 */
export function readNamedRegular(path: string, maxBytes: number, tooLargeError: () => Error): string | null {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null; // none, or a dangling link
    throw stateError(`cannot read ${path}: ${describeError(error)}`);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw stateError(`${path} is ${describeKind(stats)}, not a regular file; harn-agents did not read it (remove it, or make it a regular file)`);
    if (stats.size > maxBytes) throw tooLargeError();
    return readToEnd(fd, stats.size, maxBytes, tooLargeError);
  } catch (error) {
    if (isHarnError(error)) throw error;
    throw stateError(`cannot read ${path}: ${describeError(error)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** The rest of an open regular file as text, held to `maxBytes` while it is read (it may grow meanwhile). */
function readToEnd(fd: number, sizeHint: number, maxBytes: number, tooLargeError: () => Error): string {
  // Read to the end rather than trusting st_size alone: the size is a hint, a regular file cannot block.
  const chunks: Buffer[] = [];
  let buffer = Buffer.allocUnsafe(Math.max(sizeHint + 1, 4096));
  let filled = 0;
  for (;;) {
    if (filled === buffer.length) {
      chunks.push(buffer);
      buffer = Buffer.allocUnsafe(buffer.length);
      filled = 0;
    }
    const n = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
    if (n === 0) break;
    filled += n;
    if (chunks.length * buffer.length + filled > maxBytes) throw tooLargeError();
  }
  // The common case, one read of the whole file: decode it in place rather than copy it first.
  if (chunks.length === 0) return buffer.toString('utf8', 0, filled);
  chunks.push(buffer.subarray(0, filled));
  return Buffer.concat(chunks).toString('utf8');
}

/** What is at `path` (without following a symlink), or null when nothing is. */
export function lstatKind(path: string): string | null {
  try {
    return describeKind(fs.lstatSync(path));
  } catch {
    return null;
  }
}

/** Create a new regular file that must not exist yet (O_EXCL: never through a planted symlink). */
export function createExclusive(path: string, mode = 0o666): number {
  return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW | O_NONBLOCK, mode);
}
