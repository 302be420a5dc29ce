import { registryTime } from '../core/clock.js';
import { stateError } from '../core/errors.js';
import type { HarnEvent } from '../core/events.js';
import { AgentRegistry, IdSpaceExhaustedError, type Agent, type RegistryConfig } from '../core/registry.js';
import { decodeSnapshot, SnapshotFormatError } from './codec.js';

/** What one transaction's function sees: the registry (already reaped), the time, and the audit trail. */
export interface Transaction {
  readonly registry: AgentRegistry;
  /** The registry's time: the store's clock, or the registry's newest time if the clock went back. */
  readonly nowMs: number;
  /** How far the clock is behind the registry's newest time (0 normally). */
  readonly clockBehindMs: number;
  /** Agents this transaction's reap marked crashed. */
  readonly reaped: readonly Agent[];
  /** Add an event to the audit trail; saved only if the transaction's changes are saved. */
  record(event: HarnEvent): void;
}

export type TransactionMode = 'read' | 'write';

/** A store: where the registry lives (a file, or PostgreSQL), with one transaction per operation. */
export interface Store {
  /**
   * Run `fn` over the current registry and persist what it changed. `fn` may run more than once (a `read`
   * transaction that turns out to change something is run again under the lock), so it must not have
   * effects outside the registry. `read` transactions on a workspace with no state create nothing.
   */
  transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R>;
  /** The audit trail, oldest first, and how many unreadable entries were skipped. */
  readEvents(): Promise<{ events: HarnEvent[]; skipped: number }>;
  /** Where the registry lives, for messages (a path, or a URL without its password). */
  readonly location: string;
}

export interface Applied<R> {
  readonly result: R;
  readonly registry: AgentRegistry;
  readonly events: HarnEvent[];
}

/**
 * Decode a stored snapshot (null: none yet), reap with the store's clock, and run one command: the part of
 * a transaction every store shares. Pure apart from the function it runs.
 */
export function applyTransaction<R>(text: string | null, config: RegistryConfig, clockMs: number, location: string, fn: (tx: Transaction) => R): Applied<R> {
  let registry: AgentRegistry;
  try {
    registry = text === null ? new AgentRegistry(config) : AgentRegistry.fromSnapshot(config, decodeSnapshot(text));
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw stateError(`state ${location} is invalid: ${error.message}; it was left untouched`);
    throw error;
  }
  const { nowMs, clockBehindMs } = registryTime(clockMs, registry);
  const reapedDetails = registry.reapWithDetails(nowMs);
  const events: HarnEvent[] = reapedDetails.map(({ agent, releasedPaths }) => ({
    type: 'reap',
    ts: nowMs,
    agent: { id: agent.id, name: agent.name },
    last_seen_ms: agent.lastSeenMs,
    released: releasedPaths,
  }));
  const reaped = reapedDetails.map((r) => r.agent);
  try {
    const result = fn({ registry, nowMs, clockBehindMs, reaped, record: (event) => events.push(event) });
    return { result, registry, events };
  } catch (error) {
    if (error instanceof IdSpaceExhaustedError) throw stateError(error.message);
    throw error;
  }
}
