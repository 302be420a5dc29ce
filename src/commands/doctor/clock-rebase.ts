import type { Context } from '../context.js';

export interface ClockRebaseResult {
  /** Whether anything moved (false: the registry's time was not ahead of this clock). */
  readonly rebased: boolean;
  /** How far every stored time moved back. */
  readonly offset_ms: number;
  readonly agents: number;
  readonly locks: number;
  /** The registry's time after the call: this clock's now. */
  readonly now_ms: number;
}

/**
 * `doctor --fix-clock`: the way back from a registry pushed into the future (a call whose clock was ahead
 * stamped it). Moves every stored time back by the measured offset (the registry's time minus this clock),
 * in one transaction, so the newest stamp is now. Each live lock keeps exactly its time left as measured on
 * the registry's own timeline (expiry − registry now), so no lock is shortened and the set of holders is the
 * same before and after; only the timeline they are counted on moves.
 */
export async function rebaseClock(ctx: Context): Promise<ClockRebaseResult> {
  return ctx.store.transact('update', ({ registry, nowMs, clockBehindMs, record }) => {
    const agents = [...registry.agents()].length;
    if (clockBehindMs <= 0) return { rebased: false, offset_ms: 0, agents, locks: 0, now_ms: nowMs };
    const locks = registry.shiftTimes(-clockBehindMs);
    const newNow = nowMs - clockBehindMs;
    record({ type: 'clock-rebase', ts: newNow, offset_ms: clockBehindMs, agents, locks });
    return { rebased: true, offset_ms: clockBehindMs, agents, locks, now_ms: newNow };
  });
}
