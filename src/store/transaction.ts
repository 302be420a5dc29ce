import { clockFacts, registryTime, type ClockFacts, type RegistryTime } from '../core/clock.js';
import { stateError } from '../core/errors.js';
import { monotonicMs } from '../core/monotonic.js';
import type { HarnEvent } from '../core/events.js';
import { AgentRegistry, IdSpaceExhaustedError, type ReadonlyAgent, type RegistryConfig } from '../core/registry.js';
import { decodeSnapshot, SnapshotFormatError } from './codec.js';

/** What one transaction's function sees: the registry (already reaped), the time, and the audit trail. */
export interface Transaction {
  readonly registry: AgentRegistry;
  /** The registry's time: the store's clock, or the registry's newest time if the clock went back. */
  readonly nowMs: number;
  /** How far the clock is behind the registry's newest time (0 normally). */
  readonly clockBehindMs: number;
  /** Which clock moved, when `clockBehindMs` is not 0 (see core/clock.ts). */
  readonly clock: ClockFacts;
  /** Agents this transaction's reap marked crashed. */
  readonly reaped: readonly ReadonlyAgent[];
  /** Add an event to the audit trail; saved only if the transaction's changes are saved. */
  record(event: HarnEvent): void;
}

/**
 * What a transaction does, so a store can choose how to run it:
 * - `query` reads the registry; its function must not change it (checked: a change throws). The reap that
 *   precedes every transaction may still change it (a silent agent marked crashed), and that is saved: the
 *   store may answer without its lock and run the query again under the lock only when the reap changed
 *   something. A query on a workspace with no state creates nothing.
 * - `maybe-update` may change the registry but often does not (`release` of a path not held): it is tried
 *   like a query, without the lock, and runs again under the lock only when something changed.
 * - `update` changes the registry as a rule (lock, register): it runs under the store's lock at once and
 *   saves what changed.
 */
export type TransactionMode = 'query' | 'maybe-update' | 'update';

/** What every store honours. */
export interface StoreOptions {
  readonly config: RegistryConfig;
  /**
   * The clock a transaction's "now" comes from. The file store reads it; the PostgreSQL store does not: it
   * reads the database server's clock, the one clock every machine sharing the database agrees on.
   */
  readonly clock: () => number;
  /**
   * How long to wait for the store's lock before exit 4 (HARN_STATE_LOCK_WAIT; default 10 s): the state lock
   * for the file store; `lock_timeout` (and, half a second longer, `statement_timeout`) for PostgreSQL.
   */
  readonly stateLockWaitMs?: number;
  /** Receives timing lines (HARN_DEBUG): every store traces each attempt; the file store its lock too. */
  readonly trace?: (line: string) => void;
  /** Receives one-line warnings about a change that was committed but not fully recorded (the event log). */
  readonly warn?: (line: string) => void;
  /** PostgreSQL, a CLI call: borrow a session from the session keeper (store/pg-keeper.ts). */
  readonly sessionKeeper?: SessionKeeperChoice;
}

/** A CLI call's use of the session keeper: the environment its own pg client would read (the keeper gets it). */
export interface SessionKeeperChoice {
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * What a transaction's function touches, so a store that keeps rows (PostgreSQL) can load, lock and write back
 * only that slice instead of the whole registry. A function given a scope must read and change nothing else:
 * the agents listed (and any agent it creates under an id of its own, or with `newId` a new one), and the
 * locks on, above (directory locks) and, for a directory, under the paths listed. Without a scope the
 * transaction sees the whole registry. A store that loads the whole registry anyway ignores it.
 */
export interface TransactionScope {
  readonly agents?: readonly number[];
  readonly paths?: readonly string[];
  /** The function hands out a new id (`register`). */
  readonly newId?: boolean;
  /** What the function does, as data, for a store that can run it in one statement (see NativeOp). */
  readonly native?: NativeOp;
}

/**
 * An operation a store may run natively, in one statement on its server, instead of loading the slice,
 * running the function and writing back (pg-native.ts). It says what the transaction's function does, as
 * data; the function stays the one statement of the result: the store runs it over the slice as the server
 * read it and checks that it changed exactly what the server did. So a function with a native op must
 * depend on nothing but the registry (no cancellation check, no effects). A store that cannot run one, or
 * declines it (anything but the plain case: a conflict, a reap due, a pattern), runs the function as usual.
 */
export type NativeOp =
  | {
      readonly op: 'lock';
      readonly agent: number;
      readonly paths: readonly string[];
      readonly ttlMs: number | undefined;
      readonly reason: string | undefined;
      readonly terms: { readonly mode?: 'shared'; readonly slots?: number };
    }
  | { readonly op: 'release'; readonly agent: number; readonly paths: readonly string[] }
  | { readonly op: 'heartbeat'; readonly agent: number };

/** A store: where the registry lives (a file, or PostgreSQL), with one transaction per operation. */
export interface Store {
  /**
   * Run `fn` over the current registry and persist what it changed. `fn` may run more than once (a query
   * is run again under the lock when its reap changed something), so it must not have effects outside the
   * registry.
   */
  transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R, scope?: TransactionScope): Promise<R>;
  /** The audit trail, oldest first, and how many unreadable entries were skipped. */
  readEvents(): Promise<{ events: HarnEvent[]; skipped: number }>;
  /** Where the registry lives, for messages (a path, or a URL without its password). */
  readonly location: string;
  /** Let go of what the store holds open (PostgreSQL's connections); the file store holds nothing. */
  close(): Promise<void>;
}

/**
 * One attempt at a transaction over a store that loads the whole registry: without the store's lock
 * (nothing is saved) or with it (what changed is saved). Says whether the registry changed.
 */
export type Attempt = <R>(locked: boolean, fn: (tx: Transaction) => R) => Promise<{ readonly result: R; readonly changed: boolean }>;

/**
 * The policy of every store that loads the whole registry, written once: a query (or a maybe-update) first
 * runs without the lock (a committed state is always readable whole) and stands if nothing changed;
 * otherwise, and for an update, the transaction runs under the lock. So a call that changes nothing takes no
 * lock and, on a workspace without state, creates nothing. A store that can run operations natively (rows in a
 * database) implements `transact` its own way instead.
 */
export async function transactOptimistically<R>(
  mode: TransactionMode,
  fn: (tx: Transaction) => R,
  attempt: Attempt,
  trace?: (line: string) => void,
): Promise<R> {
  const timed = async (locked: boolean, f: (tx: Transaction) => R) => {
    const start = monotonicMs();
    try {
      return await attempt(locked, f);
    } finally {
      trace?.(`${mode} ${locked ? 'under the lock' : 'without the lock'}: ${(monotonicMs() - start).toFixed(1)}ms`);
    }
  };
  const body = mode === 'query' ? queryOnly(fn) : fn;
  if (mode !== 'update') {
    const first = await timed(false, body);
    if (!first.changed) return first.result;
  }
  return (await timed(true, body)).result;
}

/** A query's function, checked to change nothing: a change there would be lost or saved by accident. */
function queryOnly<R>(fn: (tx: Transaction) => R): (tx: Transaction) => R {
  return (tx) => {
    const before = tx.registry.version;
    const result = fn(tx);
    if (tx.registry.version !== before) throw new Error('a query transaction changed the registry (use an update)');
    return result;
  };
}

export interface Applied<R> {
  readonly result: R;
  readonly registry: AgentRegistry;
  readonly events: HarnEvent[];
}

/**
 * Decode a stored snapshot (null: none yet), reap with the store's clock, and run one command: the part of
 * a transaction every store shares. Pure apart from the function it runs. `storeTimeHintMs` is when the
 * snapshot was written by a clock other than the writers' (the state file's mtime), for diagnosis only.
 */
export function applyTransaction<R>(
  text: string | null,
  config: RegistryConfig,
  clockMs: number,
  location: string,
  fn: (tx: Transaction) => R,
  storeTimeHintMs?: number,
): Applied<R> {
  let registry: AgentRegistry;
  try {
    registry = text === null ? new AgentRegistry(config) : AgentRegistry.fromSnapshot(config, decodeSnapshot(text));
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw stateError(`state ${location} is invalid: ${error.message}; it was left untouched`);
    throw error;
  }
  const time = registryTime(clockMs, registry);
  const applied = applyToRegistry(registry, time, storeTimeHintMs, fn);
  // Any write also drops old history under the workspace's `retention` setting; a quiet read stays quiet.
  // Only here, where the whole registry is loaded: the PostgreSQL store's slices leave it to `prune`.
  if (registry.changed && registry.retentionMs > 0) registry.prune(time.nowMs, registry.retentionMs);
  return applied;
}

/**
 * Reap `registry` at `time` and run one command over it: the part of a transaction every store shares, for a
 * registry loaded whole (applyTransaction) or in part (the PostgreSQL store's slice, whose time counts the
 * whole namespace's newest stamp).
 */
export function applyToRegistry<R>(registry: AgentRegistry, time: RegistryTime, storeTimeHintMs: number | undefined, fn: (tx: Transaction) => R): Applied<R> {
  const { nowMs, clockBehindMs } = time;
  const clock = clockFacts(time, storeTimeHintMs);
  // Sessions whose process is gone end first: a reap would drop the claims that cover their uncommitted work.
  const sessionEvents = registry.config.endSessions?.(registry, nowMs) ?? [];
  const reapedDetails = registry.reapWithDetails(nowMs);
  const events: HarnEvent[] = [...sessionEvents, ...reapedDetails.map(({ agent, releasedPaths }) => ({
    type: 'reap' as const,
    ts: nowMs,
    agent: { id: agent.id, name: agent.name },
    last_seen_ms: agent.lastSeenMs,
    released: releasedPaths,
  }))];
  const reaped = reapedDetails.map((r) => r.agent);
  try {
    const result = fn({ registry, nowMs, clockBehindMs, clock, reaped, record: (event) => events.push(event) });
    return { result, registry, events };
  } catch (error) {
    if (error instanceof IdSpaceExhaustedError) throw stateError(error.message);
    throw error;
  }
}
