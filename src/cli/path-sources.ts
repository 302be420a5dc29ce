import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../core/errors.js';

/** Run git in `cwd`; its stdout, or a usage error naming what failed. */
function git(cwd: string, args: readonly string[]): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw usageError(`cannot run git: ${result.error.message}`);
  if (result.status !== 0) throw usageError(`git ${args[0]} failed: ${(result.stderr || '').trim().split('\n')[0] ?? ''}`);
  return result.stdout;
}

/**
 * The paths staged in git's index, as absolute paths: added, copied, modified, deleted and type-changed
 * files, and both names of a rename. `-z` keeps spaces, newlines and non-ASCII names intact.
 */
export function stagedPaths(cwd: string): string[] {
  const top = git(cwd, ['rev-parse', '--show-toplevel']).trim();
  const fields = git(cwd, ['diff', '--cached', '--name-status', '-z', '-M', '--no-color']).split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length - 1; ) {
    const status = fields[i++] ?? '';
    const names = status.startsWith('R') || status.startsWith('C') ? 2 : 1;
    for (let n = 0; n < names && i < fields.length; n++) paths.push(path.join(top, fields[i++] ?? ''));
  }
  return paths.filter((p) => p !== top);
}

/** Paths read from stdin, one per line, or NUL-separated with `nul`. */
export function stdinPaths(nul: boolean): string[] {
  let text: string;
  try {
    text = fs.readFileSync(0, 'utf8');
  } catch {
    return [];
  }
  return text.split(nul ? '\0' : /\r?\n/).filter((p) => p.length > 0);
}
