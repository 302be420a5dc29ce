import fs from 'node:fs';
import path from 'node:path';
import { stateError, usageError } from '../core/errors.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from '../store/codec.js';
import type { Context } from './context.js';

/** `export`: the registry in the seed's layout (what `.harn/agents.json` holds), for another store. */
export async function exportRegistry(ctx: Context): Promise<{ snapshot: string }> {
  return ctx.store.transact('read', ({ registry }) => ({ snapshot: encodeSnapshot(registry.snapshot()) }));
}

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
    throw usageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let snapshot;
  try {
    snapshot = decodeSnapshot(text);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw stateError(`${file} is not a registry snapshot: ${error.message}; nothing was imported`);
    throw error;
  }
  return ctx.store.transact('write', ({ registry }) => {
    registry.replaceAll(snapshot);
    return { agents: snapshot.agents.length, next_id: registry.nextId, store: ctx.store.location };
  });
}
