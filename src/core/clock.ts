import type { AgentRegistry } from './registry.js';

/**
 * The registry's time never runs backwards. If the wall clock is behind the newest time the registry has
 * recorded (an agent's `last_seen_ms`: every write stamps one), "now" is that newest time instead, so no
 * lock expires early and no agent is reaped early because the clock went back. The cost is safe: locks and
 * agents live a little longer (until the wall clock catches up). `clockBehindMs` says by how much.
 */
export interface RegistryTime {
  readonly nowMs: number;
  readonly wallMs: number;
  /** How far the wall clock is behind the registry's newest time (0 when it is not). */
  readonly clockBehindMs: number;
}

export function registryTime(wallMs: number, registry: AgentRegistry): RegistryTime {
  const newest = registry.newestSeenMs();
  const nowMs = Math.max(wallMs, newest);
  return { nowMs, wallMs, clockBehindMs: nowMs - wallMs };
}
