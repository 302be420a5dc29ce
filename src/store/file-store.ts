import fs from 'node:fs';
import { stateError } from '../core/errors.js';
import type { HarnEvent } from '../core/events.js';
import type { RegistryConfig } from '../core/registry.js';
import { encodeSnapshot } from './codec.js';
import { appendEvents, readEvents } from './event-log.js';
import { applyTransaction, type Applied, type Store, type Transaction, type TransactionMode } from './transaction.js';
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

export type { Store, Transaction, TransactionMode } from './transaction.js';

export interface FileStoreOptions {
  readonly workspace: Workspace;
  readonly config: RegistryConfig;
  readonly clock: () => number;
  readonly stateLockWaitMs?: number;
  /** Receives timing lines when HARN_DEBUG is set. */
  readonly trace?: (line: string) => void;
}

export class FileStore implements Store {
  readonly location: string;

  constructor(private readonly options: FileStoreOptions) {
    this.location = options.workspace.statePath;
  }

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

  private apply<R>(text: string | null, fn: (tx: Transaction) => R): Applied<R> {
    return applyTransaction(text, this.options.config, this.options.clock(), `file ${this.options.workspace.statePath}`, fn);
  }

  async readEvents(): Promise<{ events: HarnEvent[]; skipped: number }> {
    return readEvents(this.options.workspace.stateDir);
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
