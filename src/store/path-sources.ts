import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { usageError } from '../core/errors.js';
import { gitLine } from '../core/git-output.js';

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
  const top = gitLine(git(cwd, ['rev-parse', '--show-toplevel']));
  const fields = git(cwd, ['diff', '--cached', '--name-status', '-z', '-M', '--no-relative', '--no-color']).split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length - 1; ) {
    const status = fields[i++] ?? '';
    const names = status.startsWith('R') || status.startsWith('C') ? 2 : 1;
    for (let n = 0; n < names && i < fields.length; n++) paths.push(path.join(top, fields[i++] ?? ''));
  }
  return paths.filter((p) => p !== top);
}

/** Paths in `text` (stdin), one per line, or NUL-separated with `nul`. */
export function stdinPaths(text: string, nul: boolean): string[] {
  return text.split(nul ? '\0' : /\r?\n/).filter((p) => p.length > 0);
}

const ZERO = /^0+$/;

/** Whether `rev` names an object in this repository. */
function known(cwd: string, rev: string): boolean {
  return spawnSync('git', ['cat-file', '-e', `${rev}^{commit}`], { cwd }).status === 0;
}

/** The paths touched by commits (`git log` arguments), both names of a rename, from the top-level. */
function loggedPaths(cwd: string, top: string, range: readonly string[]): string[] {
  // -z: every name ends in NUL, and a newline is part of a name (`evil\nname.ts`), never a separator.
  return git(cwd, ['log', '--format=', '--name-only', '--no-renames', '--no-relative', '-z', ...range, '--'])
    .split('\0')
    .filter((p) => p.length > 0)
    .map((p) => path.join(top, p));
}

/**
 * The paths changed by the commits a push sends, as absolute paths. `input` is git's pre-push stdin
 * (`<local ref> <local sha> <remote ref> <remote sha>` lines). Under the pre-commit framework, which keeps
 * that stdin, PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF give the range. With neither (a hook manager that
 * hides stdin): the commits of HEAD that no remote branch has.
 */
export function pushedPaths(cwd: string, input: string, env: NodeJS.ProcessEnv): string[] {
  const top = gitLine(git(cwd, ['rev-parse', '--show-toplevel']));
  const from = env.PRE_COMMIT_FROM_REF;
  const to = env.PRE_COMMIT_TO_REF;
  if (from && to) return loggedPaths(cwd, top, known(cwd, from) ? [`${from}..${to}`] : [to, '--not', '--remotes']);
  const lines = input.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 4);
  if (lines.length === 0) return known(cwd, 'HEAD') ? loggedPaths(cwd, top, ['HEAD', '--not', '--remotes']) : [];
  const paths: string[] = [];
  for (const [, localSha = '', , remoteSha = ''] of lines) {
    if (ZERO.test(localSha)) continue; // deleting a ref: nothing to check
    const range = !ZERO.test(remoteSha) && known(cwd, remoteSha) ? [`${remoteSha}..${localSha}`] : [localSha, '--not', '--remotes'];
    paths.push(...loggedPaths(cwd, top, range));
  }
  return paths;
}

/**
 * Every path that differs between `base` (its merge base with HEAD) and the work tree, as absolute paths: committed, staged and
 * unstaged changes, deletions, both names of a rename (`--no-renames`), and untracked files that are not
 * ignored (they are changes too, and a commit away). Paths are taken from the top-level, so this works from
 * any subdirectory.
 */
export function changedPaths(cwd: string, base: string): string[] {
  if (base === '' || base.startsWith('-')) throw usageError(`--changed: '${base}' is not a revision`);
  const top = gitLine(git(cwd, ['rev-parse', '--show-toplevel']));
  if (!known(cwd, base)) throw usageError(`--changed: '${base}' is not a commit in this repository (fetch it first: git fetch origin ${base})`);
  // From where the branch left BASE (as `git diff BASE...`), so what BASE gained since is not counted.
  const mergeBase = spawnSync('git', ['merge-base', base, 'HEAD'], { cwd, encoding: 'utf8' });
  const from = mergeBase.status === 0 && mergeBase.stdout.trim() !== '' ? mergeBase.stdout.trim() : base;
  const changed = git(top, ['diff', '--name-only', '--no-renames', '--no-relative', '-z', from, '--']).split('\0');
  const untracked = git(top, ['ls-files', '--others', '--exclude-standard', '--full-name', '-z']).split('\0');
  return [...changed, ...untracked].filter((p) => p.length > 0).map((p) => path.join(top, p));
}
