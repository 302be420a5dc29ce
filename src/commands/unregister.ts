import { agentId, byKey, type InputNames } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import { agentIdText, flagNames, optionalGivenAgent } from './argv.js';
import { ancestry } from '../core/process-tree.js';
import { dropIntent, guardDrop, type DropIntent } from './break-guard.js';
import { agentLabel } from '../render/text.js';

export interface UnregisterOptions extends DropIntent {
  /** The agent to remove (the CLI's id as typed). */
  readonly agent: number | string;
  /** How the calling face names these options in a refusal (default: by key). */
  readonly names?: InputNames;
}

export interface UnregisterResult {
  readonly id: number;
  /** The name of the record removed, or null when there was none. */
  readonly name: string | null;
  readonly removed: boolean;
}

/**
 * Drop an agent's record and with it its locks. Unregistering an unknown id is not an error. Another
 * agent's live locks are broken only on purpose (see break-guard.ts).
 */
export async function unregister(ctx: Context, options: UnregisterOptions): Promise<UnregisterResult> {
  const names = options.names ?? byKey;
  const id = agentId(options.agent, names('agent'));
  const intent = dropIntent(options, names);
  const tree = intent.by === null ? { ...intent, ancestry: options.ancestry ?? ancestry() } : intent;
  return ctx.store.transact('update', ({ registry, nowMs, record }) => {
    guardDrop(registry, nowMs, record, id, 'unregister', tree);
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
    options: [
      { flags: '--agent <id>', help: 'who you are (default: HARN_AGENT_ID); another agent\'s live locks need --force and --reason' },
      { flags: '--force', help: "remove another agent that holds live locks, breaking them (needs --reason; recorded in the event log)" },
      { flags: '--reason <text>', help: 'why its locks are broken (with --force)' },
    ],
    examples: ['harn-agents unregister "$HARN_AGENT_ID"', 'harn-agents unregister 7 --force --reason "agent 7 is stuck; ok by Ana"'],
    input: ({ args, opts, env }) => {
      // As typed, checked once by the use case: the id argument is named `id`, the caller as given.
      const by = optionalGivenAgent(opts.agent, env);
      return {
        agent: agentIdText(args[0] as string),
        by: by.agent,
        force: opts.force === true,
        reason: opts.reason as string | undefined,
        names: flagNames({ agent: 'id', by: by.name }),
      };
    },
  },
  library: { method: 'unregister', input: (agent: number): UnregisterOptions => ({ agent }) },
});
