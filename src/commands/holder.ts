import { normaliseLockPaths } from '../core/paths.js';
import type { Context } from './context.js';

export interface HolderOptions {
  readonly paths: readonly string[];
}

export interface PathHolder {
  readonly path: string;
  readonly holder: {
    readonly id: number;
    readonly name: string;
    readonly expires_ms: number;
    /** The lock that holds the path: itself, a directory above it, or (for a directory) a path under it. */
    readonly held_path: string;
    readonly reason: string | null;
  } | null;
}

export type HolderResult = readonly PathHolder[];

/** Who holds each path (after reaping silent agents). */
export async function holder(ctx: Context, options: HolderOptions): Promise<HolderResult> {
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.root);
  return ctx.store.transact('read', ({ registry, nowMs }) =>
    paths.map((path) => {
      const hold = registry.holderOf(path, nowMs);
      return {
        path,
        holder: hold ? { id: hold.agent.id, name: hold.agent.name, expires_ms: hold.expiresMs, held_path: hold.path, reason: hold.reason ?? null } : null,
      };
    }),
  );
}
