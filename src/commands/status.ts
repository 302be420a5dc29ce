import type { AgentState } from '../core/registry.js';
import type { Context } from './context.js';

export interface StatusAgent {
  readonly id: number;
  readonly name: string;
  readonly state: AgentState;
  readonly last_seen_ms: number;
  readonly edit_count: number;
  /** Live locks only (expiry after now), soonest expiry first. */
  readonly locks: ReadonlyArray<{ readonly path: string; readonly expires_ms: number; readonly reason: string | null }>;
}

export interface StatusResult {
  readonly now_ms: number;
  /** How far the wall clock is behind the registry's newest time; 0 unless the clock went back. */
  readonly clock_behind_ms: number;
  readonly workspace: string;
  readonly agents: readonly StatusAgent[];
}

/** Every agent (after reaping silent ones), by id. */
export async function status(ctx: Context): Promise<StatusResult> {
  return ctx.store.transact('read', ({ registry, nowMs, clockBehindMs }) => {
    const agents = [...registry.agents()]
      .sort((a, b) => a.id - b.id)
      .map((agent) => ({
        id: agent.id,
        name: agent.name,
        state: agent.state,
        last_seen_ms: agent.lastSeenMs,
        edit_count: agent.editCount,
        locks: [...agent.lockedPaths]
          .filter(([, expiry]) => expiry > nowMs)
          .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
          .map(([path, expiry]) => ({ path, expires_ms: expiry, reason: agent.lockReasons.get(path) ?? null })),
      }));
    return { now_ms: nowMs, clock_behind_ms: clockBehindMs, workspace: ctx.workspace.root, agents };
  });
}
