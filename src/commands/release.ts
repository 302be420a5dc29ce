import { normaliseLockPaths } from '../core/paths.js';
import type { Context } from './context.js';

export interface ReleaseOptions {
  readonly paths: readonly string[];
  readonly agent: number;
}

export interface ReleaseResult {
  readonly agent: number;
  /** The registry time of the release. */
  readonly now_ms: number;
  /** Paths the agent had a lock entry for, now released. */
  readonly released: readonly string[];
  /** Paths the agent held no lock on (releasing them is a no-op, not an error). */
  readonly not_held: readonly string[];
}

export async function release(ctx: Context, options: ReleaseOptions): Promise<ReleaseResult> {
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.root);
  return ctx.store.transact('read', ({ registry, nowMs }) => {
    const released: string[] = [];
    const notHeld: string[] = [];
    for (const path of paths) (registry.releaseLock(options.agent, path) ? released : notHeld).push(path);
    return { agent: options.agent, now_ms: nowMs, released, not_held: notHeld };
  });
}
