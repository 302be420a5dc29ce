import { agentId } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import { parseAgentId } from './argv.js';
import { agentLabel } from '../render/text.js';

export interface UnregisterOptions {
  readonly agent: number;
}

export interface UnregisterResult {
  readonly id: number;
  /** The name of the record removed, or null when there was none. */
  readonly name: string | null;
  readonly removed: boolean;
}

/** Drop an agent's record and with it its locks. Unregistering an unknown id is not an error. */
export async function unregister(ctx: Context, options: UnregisterOptions): Promise<UnregisterResult> {
  const id = agentId(options.agent, 'agent');
  return ctx.store.transact('update', ({ registry }) => {
    const name = registry.get(id)?.name ?? null;
    return { id, name, removed: registry.unregister(id) };
  }, { agents: [id] });
}

export const command = defineCommand({
  name: 'unregister',
  run: unregister,
  render: (r) => ({
    stdout: `${r.removed ? `unregistered ${agentLabel({ id: r.id, name: r.name ?? '' })}` : `agent ${r.id} is not registered; nothing to do`}\n`,
    stderr: '',
  }),
  cli: {
    description: 'remove an agent and its locks (an unknown id is not an error)',
    arguments: [{ name: '<id>', help: 'the agent' }],
    examples: ['harn-agents unregister "$ID"'],
    input: ({ args }) => ({ agent: parseAgentId(args[0] as string, 'id') }),
  },
  library: { method: 'unregister', input: (agent: number): UnregisterOptions => ({ agent }) },
});
