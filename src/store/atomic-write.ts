import fs from 'node:fs';
import { isHarnError, stateError } from '../core/errors.js';
import { describeError, errorCode, noSpaceError } from './fs-errors.js';
import { createExclusive } from './safe-fs.js';

/**
 * Replace the state file atomically, all synchronously so no timer or other task runs in between: write a
 * new temp file beside it (O_EXCL and O_NOFOLLOW: never through a planted symlink), fsync it, `confirm` that
 * we may still write (the state lock's fence), rename it over the old file, and fsync the directory so the
 * rename itself is durable. A failure at any step leaves the old file as it was and removes the temp file.
 *
 * The new file keeps the old one's permission bits; a new state file is created 0666 less the umask, so it
 * is group- or world-writable only if the umask says so.
 */
export function writeStateFile(statePath: string, stateDir: string, text: string, confirm: () => void): void {
  let oldMode: number | undefined;
  try {
    const old = fs.lstatSync(statePath);
    oldMode = old.mode & 0o777;
    // The rename would replace a file its owner made read-only; honour the file's mode instead.
    fs.accessSync(statePath, fs.constants.W_OK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw stateError(`state file ${statePath} is read-only; it was left as it was`);
  }
  // Unique enough with O_EXCL behind it (a clash is refused, never followed); node:crypto would cost each write
  // about 4 ms of loading Node's crypto and stream modules.
  const tempPath = `${statePath}.tmp-${process.pid}-${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0')}`;
  let fd: number | undefined;
  let renamed = false;
  try {
    fd = createExclusive(tempPath);
    testPause('opened');
    if (oldMode !== undefined) fs.fchmodSync(fd, oldMode);
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
    testPause('written');
    fs.fsyncSync(fd);
    testPause('fsynced');
    fs.closeSync(fd);
    fd = undefined;
    testPause('before-confirm');
    confirm();
    fs.renameSync(tempPath, statePath);
    renamed = true;
  } catch (error) {
    if (isHarnError(error)) throw error;
    throw noSpaceError(error, stateDir) ?? stateError(`cannot write state file ${statePath}: ${describeError(error)}; it was left as it was`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    if (!renamed) fs.rmSync(tempPath, { force: true });
  }
  syncDirectory(stateDir);
}

function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is already synced.
  }
}

/**
 * For the fencing tests only: HARN_TEST_STOP_AT=<point> makes this process stop itself (SIGSTOP) at that
 * point of the write, so a test can hold it there while another process commits.
 */
function testPause(point: string): void {
  if (process.env.HARN_TEST_STOP_AT === point) process.kill(process.pid, 'SIGSTOP');
}
