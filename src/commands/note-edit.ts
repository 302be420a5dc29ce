import type { Context } from './context.js';

export interface NoteEditOptions {
  readonly agent: number;
}

export type NoteEditResult =
  | { readonly counted: true; readonly id: number; readonly name: string; readonly edit_count: number }
  | { readonly counted: false; readonly id: number };

/** Count one edit for an agent (the seed's `note_edit`); an unknown agent counts nothing. */
export async function noteEdit(ctx: Context, options: NoteEditOptions): Promise<NoteEditResult> {
  return ctx.store.transact('write', ({ registry, nowMs }) => {
    if (!registry.noteEdit(options.agent, nowMs)) return { counted: false, id: options.agent };
    const agent = registry.get(options.agent);
    return { counted: true, id: options.agent, name: agent?.name ?? '', edit_count: agent?.editCount ?? 0 };
  });
}
