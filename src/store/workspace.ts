import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../core/errors.js';
import type { AgentOrigin } from '../core/registry.js';
import { currentBranch, gitWorktree, type GitWorktree } from './git-worktree.js';
import { currentUid } from './safe-fs.js';

export const STATE_DIR = '.harn';
export const STATE_FILE = 'agents.json';

/** Where one invocation works: the workspace root, the directory paths are taken from, and the state file. */
export interface Workspace {
  /** Absolute, symlink-resolved workspace root: where `.harn/` is (a linked worktree's is its main worktree). */
  readonly root: string;
  /**
   * The directory stored lock paths are relative to: `root`, except in a linked worktree sharing its
   * repository's registry, where it is the worktree's top (so a path is the same in every worktree).
   */
  readonly pathRoot: string;
  /** Absolute, symlink-resolved directory relative lock paths are resolved against (after `-C`). */
  readonly cwd: string;
  readonly stateDir: string;
  readonly statePath: string;
  /**
   * Whether files under `.harn/` may belong to another user: the root is listed in HARN_SAFE_DIRECTORIES.
   * Otherwise anything there owned by someone else is refused (as git's safe.directory).
   */
  readonly trusted: boolean;
  /** The git worktree `cwd` is in, if any (found on first use). */
  readonly git: () => GitWorktree | null;
  /** `.harn` entries between `cwd` and its repository's top-level: never a workspace of their own. */
  readonly ignoredStateDirs?: readonly string[];
}

/** `dir` with its links resolved, which must be a directory (`what` names it in the refusal). */
export function realDirectory(dir: string, what: string): string {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    throw usageError(`${what} ${dir} does not exist`);
  }
  if (!fs.statSync(real).isDirectory()) throw usageError(`${what} ${dir} is not a directory`);
  return real;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Find the workspace root: `HARN_WORKSPACE` if set; else, inside a repository, its top-level (the nearest
 * ancestor holding `.git`, a directory or a worktree's file), whatever `.harn` lies below it; else the
 * nearest ancestor of `cwd` holding `.harn`, never in a directory other users can write to; else `cwd`.
 * At the top of a linked worktree, the root is its repository's main worktree, so every worktree of a
 * repository shares one registry (git-worktree.ts says when the link is trusted).
 */
export function findWorkspace(startDir: string, env: Readonly<Record<string, string | undefined>>): Workspace {
  const cwd = realDirectory(startDir, 'directory');
  const found: Found = env.HARN_WORKSPACE
    ? { root: realDirectory(path.resolve(cwd, env.HARN_WORKSPACE), 'HARN_WORKSPACE'), pathRoot: null, git: undefined, ignored: [] }
    : discoverRoot(cwd);
  const { root } = found;
  const stateDir = path.join(root, STATE_DIR);
  let git = found.git;
  return {
    root,
    pathRoot: found.pathRoot ?? root,
    cwd,
    stateDir,
    statePath: path.join(stateDir, STATE_FILE),
    trusted: isTrusted(root, env.HARN_SAFE_DIRECTORIES),
    git: () => (git === undefined ? (git = findGitWorktree(cwd)) : git),
    ignoredStateDirs: found.ignored,
  };
}

/** Where agents created from this workspace come from: the worktree and its branch. */
export function workspaceOrigin(workspace: Workspace): AgentOrigin {
  const git = workspace.git();
  if (!git) return {};
  const branch = currentBranch(git.gitDir);
  return branch === null ? { worktree: git.top } : { worktree: git.top, branch };
}

interface Found {
  readonly root: string;
  /** The base of stored paths when it is not `root`. */
  readonly pathRoot: string | null;
  /** The git worktree, when discovery met it (undefined: not looked for yet). */
  readonly git: GitWorktree | null | undefined;
  /** `.harn` entries below the repository's top-level, which discovery passed by. */
  readonly ignored: readonly string[];
}

/** `dir`'s `.git` when it marks a repository's top, or null. */
function dotGitAt(dir: string): fs.Stats | null {
  const dotGit = lstatOrNull(path.join(dir, '.git'));
  // A .git in a world-writable directory (/tmp) may have been planted by anyone: it marks no repository.
  return dotGit !== null && !worldWritable(dir) ? dotGit : null;
}

/** The top of the repository holding `dir` (its `.git` and what it is), or null. */
function gitTop(dir: string): { top: string; dotGit: fs.Stats } | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const dotGit = dotGitAt(d);
    if (dotGit !== null) return { top: d, dotGit };
    if (path.dirname(d) === d) return null;
  }
}

function findGitWorktree(cwd: string): GitWorktree | null {
  const top = gitTop(cwd);
  return top ? gitWorktree(top.top, top.dotGit) : null;
}

function discoverRoot(cwd: string): Found {
  // Inside a repository the registry is at its top-level (a linked worktree's: its main worktree's), one
  // per repository: a .harn/ below the top (committed in src/, say) is never a second one.
  const repo = gitTop(cwd);
  if (repo !== null) {
    const git = gitWorktree(repo.top, repo.dotGit);
    const ignored: string[] = [];
    for (let dir = cwd; dir !== repo.top; dir = path.dirname(dir)) if (lstatOrNull(path.join(dir, STATE_DIR))) ignored.push(path.join(dir, STATE_DIR));
    // A linked worktree shares its repository's registry (a .harn/ at its own top is not used).
    if (git.main !== null && git.main !== repo.top) return { root: git.main, pathRoot: repo.top, git, ignored };
    return { root: repo.top, pathRoot: null, git, ignored };
  }
  const uid = currentUid();
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    // Any entry named .harn counts (a symlink or a file too): using it then fails with a clear refusal,
    // where skipping it would quietly adopt a .harn/ further up.
    if (lstatOrNull(path.join(dir, STATE_DIR)) && (!writableByOthers(dir, uid) || dir === cwd)) return { root: dir, pathRoot: null, git: null, ignored: [] };
    if (path.dirname(dir) === dir) return { root: cwd, pathRoot: null, git: null, ignored: [] };
  }
}

/**
 * Whether users other than the caller can create entries in `dir` (and so could have planted its `.harn`):
 * world-writable, or group-writable and not the caller's own. /tmp is the usual case.
 */
function writableByOthers(dir: string, uid: number | null): boolean {
  const stats = lstatOrNull(dir);
  if (!stats || uid === null) return false;
  return (stats.mode & 0o002) !== 0 || ((stats.mode & 0o020) !== 0 && stats.uid !== uid);
}

function worldWritable(dir: string): boolean {
  return ((lstatOrNull(dir)?.mode ?? 0) & 0o002) !== 0;
}

/**
 * HARN_SAFE_DIRECTORIES: absolute workspace roots (separated by ':') whose .harn/ may belong to others; '*'
 * for any. Relative entries are ignored: `.` would trust whatever directory a hook happens to run in.
 */
function isTrusted(root: string, list: string | undefined): boolean {
  if (!list) return false;
  return list.split(path.delimiter).some((entry) => {
    if (entry === '*') return true;
    if (!path.isAbsolute(entry)) return false;
    try {
      return fs.realpathSync(entry) === root;
    } catch {
      return path.resolve(entry) === root;
    }
  });
}
