import fs from 'node:fs';
import { stateError } from '../core/errors.js';
import { describeKind } from '../store/safe-fs.js';

/**
 * Write a hook manager's or an agent's configuration file in the repository (.husky/pre-commit,
 * lefthook.yml, .pre-commit-config.yaml, .claude/settings.json, a hook script). Those files come with the
 * clone, so one may be a committed symlink to a file outside (~/.bashrc): never write through one. An
 * existing file must be a regular file; a new one is created with O_EXCL, so no symlink can appear in
 * between. `mode` applies to a new file only (less the umask).
 */
export function writeRepoFile(file: string, content: string, mode = 0o666): void {
  const stats = fs.lstatSync(file, { throwIfNoEntry: false });
  if (stats && !stats.isFile()) {
    throw stateError(`${file} is ${describeKind(stats)}, not a regular file; harn-agents did not write through it (remove it, or make it a regular file)`);
  }
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW = 0 } = fs.constants;
  const fd = fs.openSync(file, stats ? O_WRONLY | O_TRUNC | O_NOFOLLOW : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}
