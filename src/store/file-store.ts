import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { getLocks } from 'proper-lockfile/lib/lockfile.js';
import writeFileAtomic from 'write-file-atomic';
import { stateError, stateLockError } from '../core/errors.js';
import { registryTime } from '../core/clock.js';
import { formatSpan } from '../core/durations.js';
import { AgentRegistry, IdSpaceExhaustedError, type Agent, type RegistryConfig } from '../core/registry.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from './codec.js';
import type { Workspace } from './workspace.js';

/**
 * The file store: one transaction per invocation over `.harn/agents.json`.
 *
 * Protocol: take the OS-level lock (proper-lockfile: an atomic `mkdir` of `agents.json.lock`, kept fresh by
 * touching its mtime), read and validate the file, reap, apply one command, write the result back
 * atomically (write-file-atomic: temp file, fsync, rename; then fsync the directory) only when something
 * changed, release the lock. A file that does not decode is never written.
 */

/** A lock whose mtime is older than this is taken to belong to a dead process and is taken over. */
export const STALE_LOCK_MS = 5_000;
/**
 * A transaction whose synchronous work (parse, apply, encode) kept the lock unrefreshed for longer than this
 * does not write: past it, another process may be about to take the lock over.
 */
const MAX_UNREFRESHED_MS = STALE_LOCK_MS - 1_000;
/** How often a holder touches its lock (proper-lockfile's minimum). */
const LOCK_REFRESH_MS = 1_000;
/** Default wait for the state lock; must outlast STALE_LOCK_MS so a killed holder is taken over, not exit 4. */
export const DEFAULT_STATE_LOCK_WAIT_MS = 10_000;

export type TransactionMode = 'read' | 'write';

export interface Transaction {
  readonly registry: AgentRegistry;
  /** The registry's time: the wall clock, or the registry's newest time if the clock went back. */
  readonly nowMs: number;
  /** How far the wall clock is behind the registry's newest time (0 normally). */
  readonly clockBehindMs: number;
  /** Agents this transaction's reap marked crashed. */
  readonly reaped: readonly Agent[];
}

export interface Store {
  /**
   * Run `fn` once over the current registry, under the state lock, and persist what it changed.
   * `read` transactions on a workspace with no state file create nothing.
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

/**
 * Right before writing, make sure the state lock is still ours and will stay ours through the write.
 * proper-lockfile refreshes the lock's mtime from a timer, which cannot fire while this process is busy
 * with synchronous work (parsing a large file); so check here, synchronously, that nobody took the lock over
 * (its mtime is the one we last set) and that we are well inside the stale period, then refresh it.
 */
function confirmAndRefreshLock(statePath: string): boolean {
  const held = getLocks()[path.resolve(statePath)];
  if (!held || held.released) return false;
  if (Date.now() - held.lastUpdate > MAX_UNREFRESHED_MS) return false;
  try {
    if (fs.statSync(held.lockfilePath).mtime.getTime() !== held.mtime.getTime()) return false;
    const now = new Date();
    fs.utimesSync(held.lockfilePath, now, now);
    // Keep proper-lockfile's own record in step, so its refresh timer still recognises the lock as ours.
    held.mtime = fs.statSync(held.lockfilePath).mtime;
    held.lastUpdate = Date.now();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export class FileStore implements Store {
  constructor(private readonly options: FileStoreOptions) {}

  async transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R> {
    const { statePath, stateDir } = this.options.workspace;
    if (mode === 'read' && !fs.existsSync(statePath)) {
      // Nothing to lock or reap: answer from an empty registry and leave the disk as it is.
      return this.apply(null, fn).result;
    }
    this.ensureStateDir(stateDir);
    const waitStart = performance.now();
    const lock = await this.acquire();
    const lockedAt = performance.now();
    try {
      const before = this.read();
      const { result, registry } = this.apply(before, fn);
      if (registry.changed) {
        const text = encodeSnapshot(registry.snapshot());
        if (lock.compromised || !confirmAndRefreshLock(statePath)) {
          throw stateLockError(
            `could not keep the lock on ${statePath}: this process stalled for over ${formatSpan(MAX_UNREFRESHED_MS)} while holding it; nothing was written`,
          );
        }
        await this.write(text);
      }
      return result;
    } finally {
      await lock.release();
      this.options.trace?.(
        `state lock wait ${(lockedAt - waitStart).toFixed(1)}ms, held ${(performance.now() - lockedAt).toFixed(1)}ms`,
      );
    }
  }

  private apply<R>(text: string | null, fn: (tx: Transaction) => R): { result: R; registry: AgentRegistry } {
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
    const reaped = registry.reap(nowMs);
    try {
      return { result: fn({ registry, nowMs, clockBehindMs, reaped }), registry };
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
      throw stateError(`cannot create ${stateDir}: ${describe(error)}`);
    }
  }

  private read(): string | null {
    const { statePath } = this.options.workspace;
    try {
      return fs.readFileSync(statePath, 'utf8');
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return null;
      if (code === 'EISDIR') throw stateError(`state file ${statePath} is a directory, not a file`);
      throw stateError(`cannot read state file ${statePath}: ${describe(error)}`);
    }
  }

  private async write(text: string): Promise<void> {
    const { statePath, stateDir } = this.options.workspace;
    // The atomic rename would replace a file its owner made read-only; honour the file's mode instead.
    try {
      fs.accessSync(statePath, fs.constants.W_OK);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw stateError(`state file ${statePath} is read-only; it was left as it was`);
      }
    }
    try {
      await writeFileAtomic(statePath, text, { fsync: true });
    } catch (error) {
      throw stateError(`cannot write state file ${statePath}: ${describe(error)}; it was left as it was`);
    }
    // The rename is durable only once the directory entry is on disk.
    try {
      const fd = fs.openSync(stateDir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the data itself is already synced.
    }
  }

  /** Take the state lock, retrying with short jittered sleeps so many processes queue in milliseconds. */
  private async acquire(): Promise<{ release: () => Promise<void>; readonly compromised: boolean }> {
    const { statePath } = this.options.workspace;
    const waitMs = this.options.stateLockWaitMs ?? DEFAULT_STATE_LOCK_WAIT_MS;
    const deadline = Date.now() + waitMs;
    const state = { compromised: false };
    for (let attempt = 0; ; attempt++) {
      try {
        const release = await lockfile.lock(statePath, {
          realpath: false, // the state file may not exist yet
          stale: STALE_LOCK_MS,
          update: LOCK_REFRESH_MS,
          retries: 0,
          // The default throws from a timer; record it instead and refuse to write.
          onCompromised: () => {
            state.compromised = true;
          },
        });
        return {
          get compromised() {
            return state.compromised;
          },
          release: async () => {
            await release().catch(() => undefined);
          },
        };
      } catch (error) {
        if (errorCode(error) !== 'ELOCKED') {
          throw stateError(`cannot lock state file ${statePath}: ${describe(error)}`);
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw stateLockError(`could not take the lock on ${statePath} within ${formatSpan(waitMs)}: another process holds ${statePath}.lock`);
        }
        const backoff = Math.min(50, 1 + attempt * 2);
        await sleep(Math.min(remaining, backoff / 2 + Math.random() * backoff));
      }
    }
  }
}
