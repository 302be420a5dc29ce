import { encodeSnapshot } from '../store/codec.js';
import { defineCommand } from './command.js';
import type { Context } from './context.js';

export interface ExportResult {
  /** The registry in the seed's layout, as `.harn/agents.json` holds it. */
  readonly snapshot: string;
}

/** `export`: the registry in the seed's layout (what `.harn/agents.json` holds), for another store. */
export async function exportRegistry(ctx: Context): Promise<ExportResult> {
  return ctx.store.transact('query', ({ registry }) => ({ snapshot: encodeSnapshot(registry.snapshot()) }));
}

export const command = defineCommand({
  name: 'export',
  run: (ctx) => exportRegistry(ctx),
  render: (r) => ({ stdout: r.snapshot, stderr: '' }),
  json: (r) => JSON.parse(r.snapshot) as unknown,
  cli: {
    description: "print the registry in the seed's JSON layout (what .harn/agents.json holds)",
    examples: ['harn-agents export > registry.json', 'harn-agents --store "$PG" import registry.json'],
    input: () => ({}),
  },
});
