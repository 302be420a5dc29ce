import fs from 'node:fs';
import path from 'node:path';
import { stateError } from '../core/errors.js';
import { describeKind, readNamedRegular } from '../store/safe-fs.js';

/** Hook scripts and configuration files are small: anything bigger is not one, and is not read whole. */
const MAX_REPO_FILE_BYTES = 1024 * 1024;

/**
 * Read a hook manager's or an agent's file in the repository, or null when there is none. The file may
 * come with the clone: a committed symlink to /dev/zero or a device must not hang the call or fill memory,
 * so it is opened without blocking and read only if what it names is a regular file of at most 1 MiB. A
 * symlink to a regular file is read (people link their hooks into the repository), never written through.
 */
export function readRepoFile(file: string): string | null {
  return readNamedRegular(file, MAX_REPO_FILE_BYTES, () =>
    stateError(`${file} is larger than 1 MiB, which no hook script or configuration is; harn-agents did not read it`),
  );
}

/** readRepoFile, with a file that is not a regular one (or cannot be read) taken as none: for detection and status. */
export function readRepoFileIfRegular(file: string): string | null {
  try {
    return readRepoFile(file);
  } catch {
    return null;
  }
}

/**
 * The refusal writeRepoFile gives, checked on its own: a multi-file install checks every file first. A
 * directory between the work tree's top-level `top` and the file may be committed too: one that is a
 * symlink (`.claude` linked to ~/.claude, a core.hooksPath folder linked elsewhere) is refused as well.
 */
export function assertWritableRepoFile(file: string, top: string): void {
  const relative = path.relative(top, path.dirname(file));
  if (relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)) {
    let dir = top;
    for (const part of relative.split(path.sep)) {
      dir = path.join(dir, part);
      if (fs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw stateError(`${dir} is a symbolic link; harn-agents did not write ${file} through it (remove it, or make it a directory)`);
      }
    }
  }
  const stats = fs.lstatSync(file, { throwIfNoEntry: false });
  if (stats && !stats.isFile()) {
    throw stateError(`${file} is ${describeKind(stats)}, not a regular file; harn-agents did not write through it (remove it, or make it a regular file)`);
  }
}

/**
 * Write a hook manager's or an agent's configuration file in the repository (.husky/pre-commit,
 * lefthook.yml, .pre-commit-config.yaml, .claude/settings.json, a hook script). Those files come with the
 * clone, so one may be a committed symlink to a file outside (~/.bashrc): never write through one. An
 * existing file must be a regular file; a new one is created with O_EXCL, so no symlink can appear in
 * between. `top`: the work tree's top-level (see assertWritableRepoFile). `mode` applies to a new file only
 * (less the umask).
 */
export function writeRepoFile(file: string, content: string, { top, mode = 0o666 }: { readonly top: string; readonly mode?: number }): void {
  assertWritableRepoFile(file, top);
  const exists = fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW = 0 } = fs.constants;
  const fd = fs.openSync(file, exists ? O_WRONLY | O_TRUNC | O_NOFOLLOW : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}
