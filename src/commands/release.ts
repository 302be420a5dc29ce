import { usageError } from '../core/errors.js';
import { normaliseLockPaths } from '../core/paths.js';
import type { AgentRef, Context } from './context.js';

export interface ReleaseOptions {
  readonly paths: readonly string[];
  /** The agent releasing its own locks; with `force`, only recorded as who broke the locks. */
  readonly agent: number | null;
  /** Break any agent's lock on exactly these paths (git LFS `unlock --force`); needs a reason. */
  readonly force?: boolean;
  readonly reason?: string;
}

export interface BrokenLock {
  readonly path: string;
  readonly holder: AgentRef;
  readonly expires_ms: number;
  readonly lock_reason: string | null;
}

export interface ReleaseResult {
  readonly agent: number | null;
  /** The registry time of the release. */
  readonly now_ms: number;
  /** Paths released (with `force`: paths whose lock was broken). */
  readonly released: readonly string[];
  /** Paths with nothing to release (releasing them is a no-op, not an error). */
  readonly not_held: readonly string[];
  /** With `force`: the locks broken, with their holders. */
  readonly broken?: readonly BrokenLock[];
}

export async function release(ctx: Context, options: ReleaseOptions): Promise<ReleaseResult> {
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.root);
  if (options.force) return forceRelease(ctx, options, paths);
  if (options.agent === null) throw usageError('no agent given: pass --agent or set HARN_AGENT_ID (or --force to break locks)');
  const agent = options.agent;
  return ctx.store.transact('read', ({ registry, nowMs }) => {
    const released: string[] = [];
    const notHeld: string[] = [];
    for (const path of paths) (registry.releaseLock(agent, path) ? released : notHeld).push(path);
    return { agent, now_ms: nowMs, released, not_held: notHeld };
  });
}

function forceRelease(ctx: Context, options: ReleaseOptions, paths: readonly string[]): Promise<ReleaseResult> {
  const reason = options.reason?.trim();
  if (!reason) throw usageError('release --force needs --reason TEXT: it is recorded in the event log');
  return ctx.store.transact('read', ({ registry, nowMs, record }) => {
    const broken: BrokenLock[] = [];
    for (const path of paths) {
      for (const hold of registry.forceRelease(path, nowMs)) {
        broken.push({ path, holder: { id: hold.agent.id, name: hold.agent.name }, expires_ms: hold.expiresMs, lock_reason: hold.reason ?? null });
      }
    }
    if (broken.length > 0) record({ type: 'force-release', ts: nowMs, by: options.agent, reason, broken });
    const released = paths.filter((p) => broken.some((b) => b.path === p));
    return { agent: options.agent, now_ms: nowMs, released, not_held: paths.filter((p) => !released.includes(p)), broken };
  });
}
