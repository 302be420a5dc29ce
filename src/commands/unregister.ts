import type { Context } from './context.js';

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
  return ctx.store.transact('write', ({ registry }) => {
    const name = registry.get(options.agent)?.name ?? null;
    return { id: options.agent, name, removed: registry.unregister(options.agent) };
  });
}
