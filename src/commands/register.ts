import { usageError } from '../core/errors.js';
import type { AgentRef, Context } from './context.js';

export interface RegisterOptions {
  readonly name: string;
  /** Register under this id instead of the next free one (replaces any record under it, as in the seed). */
  readonly id?: number;
}

export type RegisterResult = AgentRef;

export async function register(ctx: Context, options: RegisterOptions): Promise<RegisterResult> {
  if (options.name.length === 0) throw usageError('the agent name must not be empty');
  return ctx.store.transact('write', ({ registry, nowMs }) => {
    const id = options.id === undefined ? registry.register(options.name, nowMs) : registry.registerWithId(options.id, options.name, nowMs);
    return { id, name: options.name };
  });
}
