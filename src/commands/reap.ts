import { agentRef, type AgentRef, type Context } from './context.js';

export interface ReapResult {
  readonly reaped: readonly AgentRef[];
}

/** Reap silent agents now (every command does this first; this one reports who was reaped). */
export async function reap(ctx: Context): Promise<ReapResult> {
  return ctx.store.transact('read', ({ reaped }) => ({ reaped: reaped.map(agentRef) }));
}
