import { normaliseLockPaths } from '../core/paths.js';
import type { Context } from './context.js';

export interface ReleaseOptions {
  readonly paths: readonly string[];
  readonly agent: number;
}

export interface ReleaseResult {
  readonly agent: number;
  /** Paths the agent had a lock entry for, now released. */
  readonly released: readonly string[];
  /** Paths the agent held no lock on (releasing them is a no-op, not an error). */
  readonly not_held: readonly string[];
}

export async function release(ctx: Context, options: ReleaseOptions): Promise<ReleaseResult> {
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.root);
  return ctx.store.transact('read', ({ registry }) => {
    const released: string[] = [];
    const notHeld: string[] = [];
    for (const path of paths) (registry.releaseLock(options.agent, path) ? released : notHeld).push(path);
    return { agent: options.agent, released, not_held: notHeld };
  });
}
