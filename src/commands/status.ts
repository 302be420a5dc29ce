import { locksOverlap, type AgentState } from '../core/registry.js';
import { normaliseLockPath } from '../core/paths.js';
import type { AgentRef, Context } from './context.js';

export interface StatusOptions {
  /** Only this agent. */
  readonly agent?: number;
  /** Only locks on this path, under it, or covering it (a path as `lock` takes it; `src/` for a directory). */
  readonly pathPrefix?: string;
  /** Include crashed and gone agents that hold nothing (hidden by default). */
  readonly all?: boolean;
}

export interface StatusLock {
  readonly path: string;
  readonly expires_ms: number;
  readonly reason: string | null;
}

export interface StatusAgent {
  readonly id: number;
  readonly name: string;
  readonly state: AgentState;
  readonly last_seen_ms: number;
  readonly edit_count: number;
  /** Live locks only (expiry after now), soonest expiry first. */
  readonly locks: readonly StatusLock[];
}

export interface StatusResult {
  readonly now_ms: number;
  /** How far the wall clock is behind the registry's newest time; 0 unless the clock went back. */
  readonly clock_behind_ms: number;
  readonly workspace: string;
  readonly agents: readonly StatusAgent[];
  /** Agents left out because they are crashed or gone and hold nothing (see `all`). */
  readonly hidden: number;
}

/** Every agent (after reaping silent ones), by id, filtered as asked. */
export async function status(ctx: Context, options: StatusOptions = {}): Promise<StatusResult> {
  const prefix = options.pathPrefix === undefined ? undefined : normaliseLockPath(options.pathPrefix, ctx.workspace.cwd, ctx.workspace.root);
  const matches = (path: string) => prefix === undefined || path.startsWith(prefix) || locksOverlap(path, prefix);
  return ctx.store.transact('read', ({ registry, nowMs, clockBehindMs }) => {
    let hidden = 0;
    const agents: StatusAgent[] = [];
    for (const agent of [...registry.agents()].sort((a, b) => a.id - b.id)) {
      if (options.agent !== undefined && agent.id !== options.agent) continue;
      const locks = [...agent.lockedPaths]
        .filter(([path, expiry]) => expiry > nowMs && matches(path))
        .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
        .map(([path, expiry]) => ({ path, expires_ms: expiry, reason: agent.lockReasons.get(path) ?? null }));
      if (prefix !== undefined && locks.length === 0) continue;
      if (!options.all && agent.state !== 'active' && locks.length === 0) {
        hidden++;
        continue;
      }
      agents.push({ id: agent.id, name: agent.name, state: agent.state, last_seen_ms: agent.lastSeenMs, edit_count: agent.editCount, locks });
    }
    return { now_ms: nowMs, clock_behind_ms: clockBehindMs, workspace: ctx.workspace.root, agents, hidden };
  });
}

export interface LocksView {
  readonly now_ms: number;
  readonly locks: ReadonlyArray<StatusLock & { readonly holder: AgentRef }>;
}

/** `status --locks`: one entry per live lock, soonest expiry first. */
export function locksView(result: StatusResult): LocksView {
  const locks = result.agents
    .flatMap((agent) => agent.locks.map((lock) => ({ ...lock, holder: { id: agent.id, name: agent.name } })))
    .sort((a, b) => a.expires_ms - b.expires_ms || (a.path < b.path ? -1 : 1));
  return { now_ms: result.now_ms, locks };
}
