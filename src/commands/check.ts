import { normaliseLockPath } from '../core/paths.js';
import { HarnError } from '../core/errors.js';
import type { AgentRef, Context } from './context.js';

export type GuardMode = 'on' | 'warn' | 'off';

export interface CheckOptions {
  /** Paths given on the command line (relative to the current directory); bad ones are usage errors. */
  readonly paths: readonly string[];
  /** Paths from git or stdin: absolute or relative to the current directory; ones outside the workspace are skipped. */
  readonly gatheredPaths?: readonly string[];
  /** The caller: its own locks are no conflict. Null: every holder counts. */
  readonly agent: number | null;
  readonly guard: GuardMode;
}

export interface CheckConflict {
  readonly path: string;
  readonly holder: AgentRef;
  readonly held_path: string;
  readonly reason: string | null;
  readonly expires_ms: number;
}

export interface CheckResult {
  readonly guard: GuardMode;
  readonly agent: number | null;
  readonly checked: number;
  readonly conflicts: readonly CheckConflict[];
  readonly now_ms: number;
}

/** Which of the paths are held by an agent other than the caller (the guard behind hooks and CI jobs). */
export async function check(ctx: Context, options: CheckOptions): Promise<CheckResult> {
  const { cwd, root } = ctx.workspace;
  if (options.guard === 'off') return { guard: 'off', agent: options.agent, checked: 0, conflicts: [], now_ms: ctx.clock() };
  const paths = new Set(options.paths.map((p) => normaliseLockPath(p, cwd, root)));
  for (const p of options.gatheredPaths ?? []) {
    try {
      paths.add(normaliseLockPath(p, cwd, root));
    } catch (error) {
      if (!(error instanceof HarnError)) throw error; // outside the workspace: nothing there can be locked
    }
  }
  return ctx.store.transact('read', ({ registry, nowMs }) => {
    const conflicts: CheckConflict[] = [];
    for (const path of paths) {
      const hold = registry.holderOf(path, nowMs, options.agent ?? undefined);
      if (hold) {
        conflicts.push({ path, holder: { id: hold.agent.id, name: hold.agent.name }, held_path: hold.path, reason: hold.reason ?? null, expires_ms: hold.expiresMs });
      }
    }
    return { guard: options.guard, agent: options.agent, checked: paths.size, conflicts, now_ms: nowMs };
  });
}
