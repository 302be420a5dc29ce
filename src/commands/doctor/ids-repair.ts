import { stateError } from '../../core/errors.js';
import type { Context } from '../context.js';

export interface IdsRepairResult {
  /** Whether next_id moved (false: ids were not exhausted). */
  readonly repaired: boolean;
  readonly from: number;
  readonly next_id: number;
}

/**
 * `doctor --fix-ids`: the way back from a registry whose next_id leaves no id to hand out (written by another
 * tool, or imported before import checked it). One transaction brings next_id back to just past the highest
 * agent id; every agent and lock is kept. Records an `ids-repair` event.
 */
export async function repairIds(ctx: Context): Promise<IdsRepairResult> {
  return ctx.store.transact('update', ({ registry, nowMs, record }) => {
    const from = registry.nextId;
    if (!registry.idsExhausted) return { repaired: false, from, next_id: from };
    const to = registry.repairNextId();
    if (to === null) throw stateError(`agent ids are exhausted and an agent's own id is at the limit; unregister it first (harn-agents status lists the ids)`);
    record({ type: 'ids-repair', ts: nowMs, from, next_id: to });
    return { repaired: true, from, next_id: to };
  });
}
