import fs from 'node:fs';
import path from 'node:path';
import { isHarnError, stateError, usageError } from '../core/errors.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import { decodeSnapshot, SnapshotFormatError } from '../store/codec.js';
import { defineCommand } from './command.js';
import type { Context } from './context.js';

export interface ImportResult {
  readonly agents: number;
  readonly next_id: number;
  readonly store: string;
}

/** `import FILE`: replace the registry with a snapshot in the seed's layout (validated first; `-` is stdin). */
export async function importRegistry(ctx: Context, file: string): Promise<ImportResult> {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : path.resolve(ctx.workspace.cwd, file), 'utf8');
  } catch (error) {
    if (isHarnError(error)) throw error;
    throw usageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let snapshot;
  try {
    snapshot = decodeSnapshot(text);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw stateError(`${file} is not a registry snapshot: ${error.message}; nothing was imported`);
    throw error;
  }
  return ctx.store.transact('update', ({ registry }) => {
    registry.replaceAll(snapshot);
    return { agents: snapshot.agents.length, next_id: registry.nextId, store: ctx.store.location };
  });
}

export const command = defineCommand({
  name: 'import',
  run: (ctx, options: { file: string }) => importRegistry(ctx, options.file),
  render: (r) => ({ stdout: `imported ${r.agents} agents into ${esc(r.store)}\n`, stderr: '' }),
  cli: {
    description: 'replace the registry with a snapshot in the seed layout (validated first; - reads stdin)',
    arguments: [{ name: '<file>', help: 'a snapshot written by export, or a .harn/agents.json' }],
    examples: ['harn-agents --store postgres://db.example/harn import .harn/agents.json'],
    input: ({ args }) => ({ file: args[0] as string }),
  },
});
