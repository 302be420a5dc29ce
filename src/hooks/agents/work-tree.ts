import { runGit } from '../git.js';

/** A file with uncommitted changes in a work tree: staged, unstaged, or untracked. */
export interface ChangedFile {
  /** Whether git tracks it (untracked files are new). */
  readonly tracked: boolean;
}

/**
 * The work tree's uncommitted changes, by path relative to its top: `git status --porcelain -z` (NUL
 * separated, so no file name is ever split or quoted). Null when `top` is not a git work tree.
 */
export function changedFiles(top: string): Map<string, ChangedFile> | null {
  const result = runGit(top, ['-c', 'core.quotePath=false', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
  if (result.status !== 0) return null;
  const changed = new Map<string, ChangedFile>();
  const fields = result.stdout.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] as string;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    changed.set(entry.slice(3), { tracked: xy !== '??' });
    if (xy[0] === 'R' || xy[0] === 'C') i++; // the original name follows (only without --no-renames)
  }
  return changed;
}
