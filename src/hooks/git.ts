import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { usageError } from '../core/errors.js';
import { gitLine } from '../core/git-output.js';

/** Run git in `cwd`: its exit status and output (never throws for a non-zero exit). */
export function runGit(cwd: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw usageError(`cannot run git: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Where the hooks live and what decides it, for one repository. */
export interface GitLayout {
  /** The work tree's top-level directory. */
  readonly top: string;
  /** The directory git runs hooks from (core.hooksPath honoured, linked worktrees too). */
  readonly hooksDir: string;
  /** core.hooksPath as configured, or null when unset. */
  readonly hooksPath: string | null;
}

export function gitLayout(cwd: string): GitLayout {
  const top = runGit(cwd, ['rev-parse', '--show-toplevel']);
  if (top.status !== 0) throw usageError(`not in a git repository (${cwd})`);
  const hooks = runGit(cwd, ['rev-parse', '--git-path', 'hooks']);
  const configured = runGit(cwd, ['config', '-z', '--get', 'core.hooksPath']);
  const hooksPath = configured.stdout.endsWith('\0') ? configured.stdout.slice(0, -1) : configured.stdout;
  return {
    top: gitLine(top.stdout),
    hooksDir: path.resolve(cwd, gitLine(hooks.stdout)),
    hooksPath: configured.status === 0 && hooksPath !== '' ? hooksPath : null,
  };
}

/** Whether `dir` lies inside the work tree `top` (and so may be committed), not inside .git. */
export function insideWorkTree(dir: string, top: string): boolean {
  const relative = path.relative(top, dir);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return false;
  return relative.split(path.sep)[0] !== '.git';
}
