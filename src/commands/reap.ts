import { agentLabel } from '../render/text.js';
import { defineCommand } from './command.js';
import { agentRef, type AgentRef, type Context } from './context.js';

export interface ReapResult {
  readonly reaped: readonly AgentRef[];
}

/** Reap silent agents now (every command does this first; this one reports who was reaped). */
export async function reap(ctx: Context): Promise<ReapResult> {
  // A query: reaping happens before any transaction's function runs, and is saved when it changed something.
  return ctx.store.transact('query', ({ reaped }) => ({ reaped: reaped.map(agentRef) }));
}

export const command = defineCommand({
  name: 'reap',
  run: (ctx) => reap(ctx),
  render: (r) => ({
    stdout: (r.reaped.length ? r.reaped.map((a) => `reaped ${agentLabel(a)}: marked crashed, locks released`) : ['no silent agent to reap']).map((l) => `${l}\n`).join(''),
    stderr: '',
  }),
  cli: {
    description: 'mark agents silent for longer than their timeout crashed and release their locks',
    examples: ['harn-agents reap', 'harn-agents reap --json'],
    input: () => ({}),
  },
  library: { method: 'reap', input: () => ({}) },
});
