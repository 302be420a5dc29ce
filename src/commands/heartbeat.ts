import type { AgentState } from '../core/registry.js';
import type { Context } from './context.js';

export interface HeartbeatOptions {
  readonly agent: number;
}

export interface HeartbeatResult {
  readonly id: number;
  readonly name: string;
  readonly state: AgentState;
  readonly last_seen_ms: number;
}

/** Refresh an agent; an unknown id is registered as `agent-<id>`, a crashed agent comes back to active. */
export async function heartbeat(ctx: Context, options: HeartbeatOptions): Promise<HeartbeatResult> {
  return ctx.store.transact('write', ({ registry, nowMs }) => {
    const agent = registry.heartbeat(options.agent, nowMs);
    return { id: agent.id, name: agent.name, state: agent.state, last_seen_ms: agent.lastSeenMs };
  });
}
