import fs from 'node:fs';
import { registryTime } from '../core/clock.js';
import { stateError } from '../core/errors.js';
import { AgentRegistry, IdSpaceExhaustedError, type Agent, type RegistryConfig } from '../core/registry.js';
import type { HarnEvent } from '../core/events.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from './codec.js';
import { appendEvents } from './event-log.js';
import { describeError, errorCode } from './fs-errors.js';
import type { Workspace } from './workspace.js';

/**
 * The file store: one transaction per invocation over `.harn/agents.json`.
 *
 * Protocol (docs/state-file.md): take the OS-level state lock, read and validate the file, reap, apply one
 * command, and write the result back atomically only when something changed; release the lock. A file that
 * does not decode is never written.
 *
 * `read` transactions first try without the lock: the file is only ever replaced by an atomic rename, so a
 * plain read sees one committed state. If reap and the command change nothing (the common case: a quiet
 * workspace), that answer stands and nothing is locked or written; otherwise the transaction runs again
 * under the lock, so whatever changed is persisted like any write.
 */

export type TransactionMode = 'read' | 'write';

export interface Transaction {
  readonly registry: AgentRegistry;
  /** The registry's time: the wall clock, or the registry's newest time if the clock went back. */
  readonly nowMs: number;
  /** How far the wall clock is behind the registry's newest time (0 normally). */
  readonly clockBehindMs: number;
  /** Agents this transaction's reap marked crashed. */
  readonly reaped: readonly Agent[];
  /** Add an event to the audit trail; appended only if the transaction's changes are saved. */
  record(event: HarnEvent): void;
}

export interface Store {
  /**
   * Run `fn` over the current registry and persist what it changed. `fn` may run more than once (a `read`
   * transaction that turns out to change something is run again under the lock), so it must not have
   * effects outside the registry. `read` transactions on a workspace with no state file create nothing.
   */
  transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R>;
}

export interface FileStoreOptions {
  readonly workspace: Workspace;
  readonly config: RegistryConfig;
  readonly clock: () => number;
  readonly stateLockWaitMs?: number;
  /** Receives timing lines when HARN_DEBUG is set. */
  readonly trace?: (line: string) => void;
}

export class FileStore implements Store {
  constructor(private readonly options: FileStoreOptions) {}

  async transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R> {
    if (mode === 'read') {
      const text = this.read();
      const attempt = this.apply(text, fn);
      // Nothing to persist (or nothing on disk to lock): this answer stands.
      if (!attempt.registry.changed || text === null) return attempt.result;
    }
    return this.lockedTransaction(fn);
  }

  private async lockedTransaction<R>(fn: (tx: Transaction) => R): Promise<R> {
    const { statePath, stateDir } = this.options.workspace;
    this.ensureStateDir(stateDir);
    const [{ acquireStateLock }, { writeStateFile }] = await Promise.all([import('./state-lock.js'), import('./atomic-write.js')]);
    const waitStart = performance.now();
    const lock = await acquireStateLock(statePath, this.options.stateLockWaitMs);
    const lockedAt = performance.now();
    try {
      const { result, registry, events } = this.apply(this.read(), fn);
      if (registry.changed) {
        // Checkpoints around the synchronous encode: each refreshes the lock, so a large file's parse and
        // encode each get the whole refresh window rather than sharing it.
        lock.confirmForWrite();
        const text = encodeSnapshot(registry.snapshot());
        lock.confirmForWrite();
        await writeStateFile(statePath, stateDir, text);
        appendEvents(stateDir, events);
      }
      return result;
    } finally {
      await lock.release();
      this.options.trace?.(`state lock wait ${(lockedAt - waitStart).toFixed(1)}ms, held ${(performance.now() - lockedAt).toFixed(1)}ms`);
    }
  }

  private apply<R>(text: string | null, fn: (tx: Transaction) => R): { result: R; registry: AgentRegistry; events: HarnEvent[] } {
    let registry: AgentRegistry;
    try {
      registry = text === null ? new AgentRegistry(this.options.config) : AgentRegistry.fromSnapshot(this.options.config, decodeSnapshot(text));
    } catch (error) {
      if (error instanceof SnapshotFormatError) {
        throw stateError(`state file ${this.options.workspace.statePath} is invalid: ${error.message}; it was left untouched`);
      }
      throw error;
    }
    const { nowMs, clockBehindMs } = registryTime(this.options.clock(), registry);
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

  private ensureStateDir(stateDir: string): void {
    try {
      fs.mkdirSync(stateDir, { recursive: true });
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST' || code === 'ENOTDIR') throw stateError(`${stateDir} exists but is not a directory`);
      throw stateError(`cannot create ${stateDir}: ${describeError(error)}`);
    }
  }

  /** The state file's text, or null when there is none yet. */
  private read(): string | null {
    const { statePath } = this.options.workspace;
    try {
      return fs.readFileSync(statePath, 'utf8');
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      if (code === 'EISDIR') throw stateError(`state file ${statePath} is a directory, not a file`);
      throw stateError(`cannot read state file ${statePath}: ${describeError(error)}`);
    }
  }
}
