import type { GitLayout } from './git.js';

export const HOOK_NAMES = ['pre-commit', 'pre-push'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** Who runs the repository's git hooks, and so where harn-agents adds its checks. */
export type Manager = 'plain' | 'hooks-path' | 'husky' | 'lefthook' | 'pre-commit';

/** installed: our check runs; absent: it does not; foreign: another hook sits where ours would (plain). */
export type HookState = 'installed' | 'absent' | 'foreign';

export interface HookStatus {
  readonly name: string;
  readonly state: HookState;
  /** Whether a hook that was there before is kept beside ours (plain hooks only). */
  readonly previous: boolean;
}

/** What one manager's integration did or found. */
export interface ManagerOutcome {
  readonly hooks: readonly HookStatus[];
  /** One line per change made (or found, for status). */
  readonly changes: readonly string[];
  /** The files harn-agents edits for this manager (its configuration, or the hook scripts). */
  readonly files: readonly string[];
  /** When editing was unsafe: the exact text to add by hand. Nothing was changed. */
  readonly manual?: string;
  /** Things the user must still do (run the manager's installer, put harn-agents on PATH). */
  readonly notes?: readonly string[];
}

export interface HookTarget {
  readonly layout: GitLayout;
  /** How to run this very installation (plain hooks only: never written into a file that may be committed). */
  readonly cli: readonly string[];
}

/** The command each hook runs, as written into files other tools own (harn-agents must be on PATH). */
export const CHECK_COMMAND: Record<HookName, string> = {
  'pre-commit': 'harn-agents check --staged',
  'pre-push': 'harn-agents check --pre-push',
};
