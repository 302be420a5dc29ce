import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../core/errors.js';

export const STATE_DIR = '.harn';
export const STATE_FILE = 'agents.json';

/** Where one invocation works: the workspace root, the directory paths are taken from, and the state file. */
export interface Workspace {
  /** Absolute, symlink-resolved workspace root. */
  readonly root: string;
  /** Absolute, symlink-resolved directory relative lock paths are resolved against (after `-C`). */
  readonly cwd: string;
  readonly stateDir: string;
  readonly statePath: string;
}

function realDirectory(dir: string, what: string): string {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    throw usageError(`${what} ${dir} does not exist`);
  }
  if (!fs.statSync(real).isDirectory()) throw usageError(`${what} ${dir} is not a directory`);
  return real;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Find the workspace root: `HARN_WORKSPACE` if set; else the nearest ancestor of `cwd` holding `.harn/`;
 * else the git top-level (the nearest ancestor holding `.git`, a directory or a worktree's file); else `cwd`.
 */
export function findWorkspace(startDir: string, env: NodeJS.ProcessEnv): Workspace {
  const cwd = realDirectory(startDir, 'directory');
  const root = env.HARN_WORKSPACE ? realDirectory(path.resolve(cwd, env.HARN_WORKSPACE), 'HARN_WORKSPACE') : discoverRoot(cwd);
  const stateDir = path.join(root, STATE_DIR);
  return { root, cwd, stateDir, statePath: path.join(stateDir, STATE_FILE) };
}

function discoverRoot(cwd: string): string {
  let gitTop: string | undefined;
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    if (isDirectory(path.join(dir, STATE_DIR))) return dir;
    if (gitTop === undefined && exists(path.join(dir, '.git'))) gitTop = dir;
    if (path.dirname(dir) === dir) break;
  }
  return gitTop ?? cwd;
}
