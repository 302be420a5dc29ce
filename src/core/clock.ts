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

/**
 * Which side moved when the clock is behind the registry's time:
 * - `registry_ahead`: the registry's newest stamp is later than the store's own record of its last write
 *   (the state file's mtime, stamped by the kernel's clock): a writer whose clock was ahead stamped it.
 * - `clock_went_back`: this process's clock is behind that last write: this clock went back.
 * - `unknown`: the store keeps no independent time (PostgreSQL, whose server clock is the one clock).
 */
export type ClockCause = 'none' | 'registry_ahead' | 'clock_went_back' | 'unknown';

export interface ClockFacts {
  /** How far this clock is behind the registry's time (`clock_behind_ms`). */
  readonly behind_ms: number;
  /** When the state file was last written, by the kernel's clock (its mtime); null for PostgreSQL. */
  readonly file_written_ms: number | null;
  /** How far the registry's newest stamp is after that write (the part of `behind_ms` a writer ahead caused). */
  readonly registry_ahead_of_file_ms: number | null;
  /** How far this clock is behind that write (the part of `behind_ms` this clock going back caused). */
  readonly clock_behind_file_ms: number | null;
  readonly cause: ClockCause;
}

/**
 * Split `behind_ms` (newest stamp − this clock) at the store's write time: newest − written is what a writer
 * ahead added, written − this clock is what this clock going back added. The larger part is the cause.
 */
export function clockFacts(time: RegistryTime, fileWrittenMs?: number): ClockFacts {
  const behind = time.clockBehindMs;
  if (fileWrittenMs === undefined || !Number.isFinite(fileWrittenMs)) {
    return { behind_ms: behind, file_written_ms: null, registry_ahead_of_file_ms: null, clock_behind_file_ms: null, cause: behind > 0 ? 'unknown' : 'none' };
  }
  const registryAhead = behind > 0 ? time.nowMs - fileWrittenMs : 0;
  const clockBehind = fileWrittenMs - time.wallMs;
  const cause: ClockCause = behind <= 0 ? 'none' : registryAhead >= clockBehind ? 'registry_ahead' : 'clock_went_back';
  return {
    behind_ms: behind,
    file_written_ms: Math.round(fileWrittenMs),
    registry_ahead_of_file_ms: Math.max(0, Math.round(registryAhead)),
    clock_behind_file_ms: Math.max(0, Math.round(clockBehind)),
    cause,
  };
}
