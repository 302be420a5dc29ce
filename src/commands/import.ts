import fs from 'node:fs';
import path from 'node:path';
import { stateError, usageError } from '../core/errors.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import { decodeSnapshot, SnapshotFormatError } from '../store/codec.js';
import { MAX_FILE_BYTES, readNamedRegular } from '../store/safe-fs.js';
import { defineCommand } from './command.js';
import { MAX_CHOSEN_ID, MAX_PATH_BYTES } from '../core/validate.js';
import type { RegistrySnapshot } from '../core/registry.js';
import type { Context } from './context.js';

export interface ImportResult {
  readonly agents: number;
  readonly next_id: number;
  readonly store: string;
}

/**
 * `import FILE`: replace the registry with a snapshot in the seed's layout (validated first; `-` is stdin,
 * read through `stdin`, which the CLI passes from its own input). The file is held to the limits of a state
 * file: a regular file (a symlink to one is fine), at most 64 MiB, never a FIFO or a device.
 */
export async function importRegistry(ctx: Context, file: string, stdin: () => string = () => fs.readFileSync(0, 'utf8')): Promise<ImportResult> {
  let text: string | null;
  try {
    text = file === '-' ? stdin() : readNamedRegular(path.resolve(ctx.workspace.cwd, file), MAX_FILE_BYTES, () => usageError(`${file} is larger than the ${MAX_FILE_BYTES / 1024 / 1024} MiB a registry may be; nothing was imported`));
  } catch (error) {
    throw usageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === null) throw usageError(`cannot read ${file}: no such file; nothing was imported`);
  let snapshot;
  try {
    snapshot = decodeSnapshot(text);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw stateError(`${file} is not a registry snapshot: ${error.message}; nothing was imported`);
    throw error;
  }
  checkImportLimits(snapshot, file);
  return ctx.store.transact('update', ({ registry }) => {
    registry.replaceAll(snapshot);
    return { agents: snapshot.agents.length, next_id: registry.nextId, store: ctx.store.location };
  });
}

/**
 * What no call could have made is not imported either: ids past the ones a call may choose (a next_id near
 * 2^53 would leave registration exhausted, and import never lowers next_id), paths past the path limit.
 */
function checkImportLimits(snapshot: RegistrySnapshot, file: string): void {
  const refuse = (why: string) => usageError(`${file}: ${why}; nothing was imported`);
  if (snapshot.nextId > MAX_CHOSEN_ID + 1) throw refuse(`next_id ${snapshot.nextId} is past the ids agents can be registered under (at most ${MAX_CHOSEN_ID + 1})`);
  for (const agent of snapshot.agents) {
    if (agent.id > MAX_CHOSEN_ID) throw refuse(`agent id ${agent.id} is past the ids agents can be registered under (0 to ${MAX_CHOSEN_ID})`);
    for (const locked of agent.lockedPaths.keys()) {
      if (Buffer.byteLength(locked) > MAX_PATH_BYTES) throw refuse(`agent ${agent.id} locks a path of ${Buffer.byteLength(locked)} bytes; a lock path may be at most ${MAX_PATH_BYTES}`);
    }
  }
}

export const command = defineCommand({
  name: 'import',
  run: (ctx, options: { file: string; stdin?: () => string }) => importRegistry(ctx, options.file, options.stdin),
  render: (r) => ({ stdout: `imported ${r.agents} agents into ${esc(r.store)}\n`, stderr: '' }),
  cli: {
    description: 'replace the registry with a snapshot in the seed layout (validated first; - reads stdin)',
    arguments: [{ name: '<file>', help: 'a snapshot written by export, or a .harn/agents.json' }],
    examples: ['harn-agents --store postgres://db.example/harn import .harn/agents.json'],
    input: ({ args, stdin }) => ({ file: args[0] as string, stdin }),
  },
});
