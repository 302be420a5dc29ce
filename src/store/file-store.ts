import { monotonicMs } from '../core/monotonic.js';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, HarnError, stateError } from '../core/errors.js';
import type { HarnEvent } from '../core/events.js';
import { encodeSnapshot } from './codec.js';
import { appendEvents, readEvents } from './event-log.js';
import { applyTransaction, transactOptimistically, type Applied, type Store, type StoreOptions, type Transaction, type TransactionMode } from './transaction.js';
import { describeError, errorCode, noSpaceError } from './fs-errors.js';
import { checkOwner, createExclusive, describeKind, MAX_FILE_BYTES, notRegularError, readRegularWithStats, type FileStats } from './safe-fs.js';
import type { Workspace } from './workspace.js';

/**
 * The file store: one transaction per invocation over `.harn/agents.json`.
 *
 * Protocol (docs/state-file.md): take the OS-level state lock, read and validate the file, reap, apply one
 * command, and write the result back atomically only when something changed; release the lock. A file that
 * does not decode is never written. Everything under `.harn/` is opened without following symlinks, must be
 * a regular file (or directory) owned by the caller, and is refused with exit 3 otherwise (safe-fs.ts).
 *
 * Queries first try without the lock (transactOptimistically): the file is only ever replaced by an atomic
 * rename, so a plain read sees one committed state. If the reap changes nothing (the common case: a quiet
 * workspace), that answer stands and nothing is locked or written; otherwise the query runs again under the
 * lock, so what the reap changed is persisted like any update.
 */

export type { Store, Transaction, TransactionMode } from './transaction.js';

/** `.harn/.gitignore`: keeps the registry and the event log out of `git add -A`. */
const GITIGNORE = '.gitignore';
const GITIGNORE_TEXT = '# Written by harn-agents: the registry and its event log are local state, never committed.\n*\n';

export interface FileStoreOptions extends StoreOptions {
  readonly workspace: Workspace;
  /** The largest state a write may leave: the read cap (MAX_FILE_BYTES), unless a test sets a smaller one. */
  readonly maxStateBytes?: number;
}

export class FileStore implements Store {
  readonly location: string;

  constructor(private readonly options: FileStoreOptions) {
    this.location = options.workspace.statePath;
  }

  transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R> {
    return transactOptimistically(
      mode,
      fn,
      async <T>(locked: boolean, f: (tx: Transaction) => T) => {
        if (locked) return { result: await this.lockedTransaction(f), changed: true };
        const applied = this.apply(this.read(), f);
        return { result: applied.result, changed: applied.registry.changed };
      },
      this.options.trace,
    );
  }

  /** Nothing is held open between transactions. */
  async close(): Promise<void> {}

  private async lockedTransaction<R>(fn: (tx: Transaction) => R): Promise<R> {
    const { statePath, stateDir } = this.options.workspace;
    this.ensureStateDir(stateDir);
    const [{ acquireStateLock }, { writeStateFile }] = await Promise.all([import('./state-lock.js'), import('./atomic-write.js')]);
    const waitStart = monotonicMs();
    const lock = await acquireStateLock(statePath, this.options.stateLockWaitMs);
    const lockedAt = monotonicMs();
    try {
      // `.harn` was checked (or made) just above: read the file itself.
      const applied = this.apply(readRegularWithStats(statePath, this.options.workspace), fn);
      if (applied.registry.changed) {
        // A checkpoint after the synchronous parse and apply, another (the fence) right before the rename.
        lock.confirmForWrite();
        const text = encodeSnapshot(applied.registry.snapshot());
        // Never write a state every later call would refuse to read.
        const bytes = Buffer.byteLength(text);
        const cap = this.options.maxStateBytes ?? MAX_FILE_BYTES;
        if (bytes > cap) {
          throw new HarnError(
            ExitCode.state,
            `this change would make the state file ${bytes} bytes, over the ${cap} bytes (${(cap / 1024 / 1024).toFixed(2)} MiB) a state file may be; nothing was written (release locks or prune agents no longer needed first)`,
            false,
          );
        }
        writeStateFile(statePath, stateDir, text, lock.confirmForWrite);
        // The change is durable: from here on nothing may turn it into a failure, whatever is planted in
        // the log's place (it is skipped with a warning). Still under the lock, so the log keeps commit
        // order and two processes never rotate it at once.
        try {
          appendEvents(stateDir, applied.events, this.options.workspace);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          (this.options.warn ?? defaultWarn)(`the change was saved, but ${message}`);
        }
      }
      return applied.result;
    } finally {
      lock.release();
      this.options.trace?.(`state lock wait ${(lockedAt - waitStart).toFixed(1)}ms, held ${(monotonicMs() - lockedAt).toFixed(1)}ms`);
    }
  }

  /** `file.stats.mtimeMs`: when the state file was last written, by the kernel's clock (for clock diagnosis only). */
  private apply<R>(file: { text: string; stats: FileStats } | null, fn: (tx: Transaction) => R): Applied<R> {
    const location = `file ${this.options.workspace.statePath}`;
    return applyTransaction(file?.text ?? null, this.options.config, this.options.clock(), location, fn, file?.stats.mtimeMs);
  }

  async readEvents(): Promise<{ events: HarnEvent[]; skipped: number }> {
    if (!this.checkStateDir()) return { events: [], skipped: 0 };
    return readEvents(this.options.workspace.stateDir, this.options.workspace);
  }

  /** `.harn` as it must be: a real directory (not a symlink) owned by the caller. False when absent. */
  private checkStateDir(): boolean {
    const { workspace } = this.options;
    const { stateDir } = workspace;
    let stats: fs.Stats;
    try {
      stats = fs.lstatSync(stateDir);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return false;
      throw stateError(`cannot read ${stateDir}: ${describeError(error)}`);
    }
    if (!stats.isDirectory()) throw notRegularError(stateDir, describeKind(stats), 'a directory');
    checkOwner(stateDir, stats, workspace);
    return true;
  }

  private ensureStateDir(stateDir: string): void {
    if (!this.checkStateDir()) {
      try {
        fs.mkdirSync(stateDir);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw noSpaceError(error, path.dirname(stateDir)) ?? stateError(`cannot create ${stateDir}: ${describeError(error)}`);
        this.checkStateDir(); // created by another process meanwhile: check it as any existing one
      }
    }
    this.ensureGitignore(stateDir);
  }

  /** Write `.harn/.gitignore` if it is missing; never over anything already there (a file or a symlink). */
  private ensureGitignore(stateDir: string): void {
    const file = path.join(stateDir, GITIGNORE);
    try {
      if (fs.lstatSync(file, { throwIfNoEntry: false })) return;
      const fd = createExclusive(file);
      try {
        fs.writeSync(fd, GITIGNORE_TEXT);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw noSpaceError(error, stateDir) ?? stateError(`cannot write ${file}: ${describeError(error)}`);
    }
  }

  /** The state file's text and stats (from the one open that read it), or null when there is none yet. */
  private read(): { text: string; stats: FileStats } | null {
    if (!this.checkStateDir()) return null;
    return readRegularWithStats(this.options.workspace.statePath, this.options.workspace);
  }
}

function defaultWarn(line: string): void {
  process.stderr.write(`harn-agents: warning: ${line}\n`);
}
