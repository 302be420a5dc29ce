import { agentId, byKey, type InputNames } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import { givenAgent } from './argv.js';
import { ExitCode } from '../core/errors.js';
import { agentLabel } from '../render/text.js';

export interface NoteEditOptions {
  /** The agent (the CLI's id as typed). */
  readonly agent: number | string;
  /** How the calling face names it in a refusal (default: by key). */
  readonly names?: InputNames;
}

export type NoteEditResult =
  | { readonly counted: true; readonly id: number; readonly name: string; readonly edit_count: number }
  | { readonly counted: false; readonly id: number };

/** Count one edit for an agent (the seed's `note_edit`); an unknown agent counts nothing. */
export async function noteEdit(ctx: Context, options: NoteEditOptions): Promise<NoteEditResult> {
  const id = agentId(options.agent, (options.names ?? byKey)('agent'));
  return ctx.store.transact('update', ({ registry, nowMs }) => {
    if (!registry.noteEdit(id, nowMs)) return { counted: false, id };
    const agent = registry.get(id);
    return { counted: true, id, name: agent?.name ?? '', edit_count: agent?.editCount ?? 0 };
  }, { agents: [id] });
}

export const command = defineCommand({
  name: 'note-edit',
  run: noteEdit,
  render: (r) =>
    r.counted
      ? { stdout: `${agentLabel(r)} has ${r.edit_count} edit${r.edit_count === 1 ? '' : 's'}\n`, stderr: '' }
      : { stdout: '', stderr: `agent ${r.id} is not registered; no edit counted\n` },
  exitCode: (r) => (r.counted ? ExitCode.ok : ExitCode.no),
  cli: {
    description: 'count one edit for an agent; exit 1 when the agent is not registered',
    arguments: [{ name: '[id]', help: 'the agent (default: HARN_AGENT_ID)' }],
    examples: ['harn-agents note-edit 3'],
    input: ({ args, env }) => {
      // Checked once by the use case, named as given: the argument, or HARN_AGENT_ID.
      const { agent, name } = givenAgent(args[0], env, 'an agent id');
      return { agent, names: () => name };
    },
  },
  library: { method: 'noteEdit', input: (agent: number): NoteEditOptions => ({ agent }) },
});
