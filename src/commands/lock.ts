import { usageError } from '../core/errors.js';
import { normaliseLockPaths } from '../core/paths.js';
import type { AgentRef, Context } from './context.js';

export interface LockOptions {
  /** Paths as the user gave them; normalised against the workspace. */
  readonly paths: readonly string[];
  readonly agent: number;
  /** Lock TTL; the registry's default (`--lock-ttl`) when absent. */
  readonly ttlMs?: number;
  /** Keep retrying a refused lock for this long. */
  readonly waitMs?: number;
  /** Why the paths are locked; shown to anyone the lock stops. */
  readonly reason?: string;
}

export interface LockPathResult {
  readonly path: string;
  /** Granted: the caller. Refused: the agent holding the path, or null for a path that was free. */
  readonly holder: AgentRef | null;
  readonly expires_ms: number | null;
  /** Refused: the holder's own lock path (a directory above, or a path under, this one), and its reason. */
  readonly held_path?: string;
  readonly reason?: string | null;
}

export interface LockResult {
  readonly granted: boolean;
  readonly agent: number;
  readonly paths: readonly LockPathResult[];
}

/** Longest sleep between two tries of `--wait`, so a released lock is picked up quickly. */
const WAIT_POLL_MS = 200;

/** Lock every path for the agent, or none. With `waitMs`, retry until granted or the wait runs out. */
export async function lock(ctx: Context, options: LockOptions): Promise<LockResult> {
  return lockNormalised(ctx, normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.root), options);
}

/** `lock` for paths already in their stored form (callers that normalised them once, as with-lock does). */
export async function lockNormalised(ctx: Context, paths: readonly string[], options: Omit<LockOptions, 'paths'>): Promise<LockResult> {
  if (options.reason !== undefined && options.reason.trim() === '') throw usageError('--reason must not be empty');
  const deadline = ctx.clock() + (options.waitMs ?? 0);
  for (;;) {
    const result = await tryOnce(ctx, options, paths);
    const remaining = deadline - ctx.clock();
    if (result.granted || remaining <= 0) return result;
    const soonest = Math.min(...result.paths.map((p) => (p.holder ? (p.expires_ms ?? Infinity) : Infinity)));
    const untilExpiry = Math.max(1, soonest - ctx.clock() + 1);
    await ctx.sleep(Math.min(remaining, WAIT_POLL_MS, untilExpiry));
  }
}

function tryOnce(ctx: Context, options: Omit<LockOptions, 'paths'>, paths: readonly string[]): Promise<LockResult> {
  return ctx.store.transact('write', ({ registry, nowMs }) => {
    const outcome = registry.lockAll(options.agent, paths, options.ttlMs, nowMs, options.reason);
    if (outcome.granted) {
      const holder = { id: outcome.agent.id, name: outcome.agent.name };
      return { granted: true, agent: options.agent, paths: paths.map((path) => ({ path, holder, expires_ms: outcome.expiresMs })) };
    }
    const byPath = new Map(outcome.conflicts.map((c) => [c.path, c]));
    return {
      granted: false,
      agent: options.agent,
      paths: paths.map((path) => {
        const conflict = byPath.get(path);
        return conflict
          ? {
              path,
              holder: { id: conflict.holder.id, name: conflict.holder.name },
              expires_ms: conflict.expiresMs,
              held_path: conflict.heldPath,
              reason: conflict.reason ?? null,
            }
          : { path, holder: null, expires_ms: null };
      }),
    };
  });
}
