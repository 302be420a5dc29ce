import fs from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { stateError } from '../core/errors.js';
import { describeError, errorCode } from './fs-errors.js';

/**
 * Replace the state file atomically: write-file-atomic writes a temp file beside it, fsyncs and renames it
 * over the old one; then the directory is fsynced so the rename itself is durable.
 */
export async function writeStateFile(statePath: string, stateDir: string, text: string): Promise<void> {
  // The rename would replace a file its owner made read-only; honour the file's mode instead.
  try {
    fs.accessSync(statePath, fs.constants.W_OK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw stateError(`state file ${statePath} is read-only; it was left as it was`);
    }
  }
  try {
    await writeFileAtomic(statePath, text, { fsync: true });
  } catch (error) {
    throw stateError(`cannot write state file ${statePath}: ${describeError(error)}; it was left as it was`);
  }
  try {
    const fd = fs.openSync(stateDir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is already synced.
  }
}
