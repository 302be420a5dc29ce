import { spawnSync } from 'node:child_process';

/** A file with uncommitted changes in a work tree: staged, unstaged, or untracked. */
export interface ChangedFile {
  /** Whether git tracks it (untracked files are new). */
  readonly tracked: boolean;
}

/**
 * The work tree's uncommitted changes, by path relative to its top: `git status --porcelain -z` (NUL
 * separated, so no file name is ever split or quoted). Null when `top` is not a git work tree. With `only`,
 * just those paths (given to git on stdin, taken literally), and an ignored one counts as changed: git never
 * commits it, so nothing but its session's end settles it.
 */
export function changedFiles(top: string, only?: readonly string[]): Map<string, ChangedFile> | null {
  const changed = new Map<string, ChangedFile>();
  // git status takes no --pathspec-from-file: the paths go on its command line, a bounded batch at a time.
  const batches = only === undefined ? [null] : Array.from({ length: Math.ceil(only.length / 500) }, (_, i) => only.slice(i * 500, i * 500 + 500));
  for (const batch of batches) if (!statusInto(top, batch, changed)) return null;
  return changed;
}

function statusInto(top: string, only: readonly string[] | null, changed: Map<string, ChangedFile>): boolean {
  const args = ['--literal-pathspecs', '-c', 'core.quotePath=false', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'];
  if (only) args.push('--ignored=matching', '--', ...only);
  const result = spawnSync('git', args, { cwd: top, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error || result.status !== 0) return false;
  const fields = result.stdout.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] as string;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    changed.set(entry.slice(3), { tracked: xy !== '??' });
    if (xy[0] === 'R' || xy[0] === 'C') i++; // the original name follows (only without --no-renames)
  }
  return true;
}
