import fs from 'node:fs';
import path from 'node:path';
import { currentUid } from './safe-fs.js';

/**
 * Which git worktree a directory is in, and which repository's main worktree that is, read from git's own
 * files (no `git` process: hooks and quiet reads stay cheap). A linked worktree's `.git` is a file
 * (`gitdir: <common>/worktrees/<name>`); that directory holds `commondir` (the repository's git directory)
 * and `gitdir` (the path of the worktree's `.git` file: git's link back). The main worktree is the
 * directory holding the common `.git`.
 *
 * Everything read may be hostile, so the link is followed only when it checks out both ways (the worktree's
 * git directory is `<common>/worktrees/<name>` and its back link names this very `.git` file), the common git directory is a real `.git` directory of a non-bare repository
 * owned by the caller, and its worktree is not in a world-writable directory. Otherwise the worktree stands
 * alone, as before worktrees were shared.
 */

export interface GitWorktree {
  /** The worktree's top directory. */
  readonly top: string;
  /** Its own git directory, where its HEAD is. */
  readonly gitDir: string;
  /** The repository's main worktree, when `top` is a linked worktree of it; null otherwise. */
  readonly main: string | null;
}

const { O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;
const MAX_GIT_FILE_BYTES = 64 * 1024;

/** A small regular file's text, or null (absent, a symlink, a FIFO, too large, unreadable). */
function readSmall(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_GIT_FILE_BYTES) return null;
    return fs.readFileSync(fd, 'utf8');
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

const firstLine = (text: string): string => text.split(/\r?\n/, 1)[0] ?? '';

/** The worktree whose top is `top` (which holds `.git`, as `dotGit` describes it). */
export function gitWorktree(top: string, dotGit: { isFile(): boolean }): GitWorktree {
  const own = path.join(top, '.git');
  if (!dotGit.isFile()) return { top, gitDir: own, main: null };
  const pointer = /^gitdir: (.+)$/.exec(firstLine(readSmall(own) ?? ''));
  if (!pointer?.[1]) return { top, gitDir: own, main: null };
  const gitDir = path.resolve(top, pointer[1]);
  return { top, gitDir, main: mainWorktree(own, gitDir) };
}

/** The main worktree of the repository whose linked worktree's `.git` file is `dotGitFile`, or null. */
function mainWorktree(dotGitFile: string, gitDir: string): string | null {
  const commondir = readSmall(path.join(gitDir, 'commondir'));
  const back = readSmall(path.join(gitDir, 'gitdir'));
  // No commondir: a submodule or a --separate-git-dir checkout, not a linked worktree.
  if (commondir === null || back === null) return null;
  const ownFile = realpathOrNull(dotGitFile);
  if (ownFile === null || realpathOrNull(path.resolve(gitDir, firstLine(back).trim())) !== ownFile) return null;
  const common = realpathOrNull(path.resolve(gitDir, firstLine(commondir).trim()));
  // A bare repository has no main worktree: each linked worktree keeps a registry of its own.
  if (common === null || path.basename(common) !== '.git') return null;
  // As git makes it: the worktree's git directory is <common>/worktrees/<name>. One anywhere else (a
  // gitmeta/ of the tree's own naming another repository) links nothing.
  const realGitDir = realpathOrNull(gitDir);
  if (realGitDir === null || path.dirname(realGitDir) !== path.join(common, 'worktrees')) return null;
  const main = path.dirname(common);
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(common);
  } catch {
    return null;
  }
  const uid = currentUid();
  if (!stats.isDirectory() || (uid !== null && stats.uid !== uid)) return null;
  try {
    if ((fs.lstatSync(main).mode & 0o002) !== 0) return null;
  } catch {
    return null;
  }
  return main;
}

/** The branch checked out in a worktree (null when HEAD is detached or unreadable). */
export function currentBranch(gitDir: string): string | null {
  const head = /^ref: refs\/heads\/(.+)$/.exec(firstLine(readSmall(path.join(gitDir, 'HEAD')) ?? ''));
  return head?.[1] ?? null;
}
