import path from 'node:path';
import { monotonicMs } from '../core/monotonic.js';
import fs from 'node:fs';
import { formatSpan } from '../core/durations.js';
import { stateError, stateLockError } from '../core/errors.js';
import { describeError, errorCode, noSpaceError } from './fs-errors.js';
import { describeKind, notRegularError } from './safe-fs.js';

/**
 * The OS-level lock on the state file: the atomic `mkdir` of `<state file>.lock`, whose mtime the holder
 * changes every second while it holds it. Loaded only by commands that write.
 *
 * Staleness is judged by watching, not by comparing clocks: a waiter takes the lock over once it has seen
 * the directory (same inode, same mtime) unchanged for STALE_LOCK_MS of its own monotonic time. So a process
 * whose clock is hours ahead or behind neither breaks a live holder's lock nor waits an hour for a dead one.
 *
 * Fencing: a holder confirms, synchronously, that the directory is still the one it made (inode) with the
 * mtime it last set, and that it refreshed less than MAX_UNREFRESHED_MS ago by its monotonic clock, right
 * before it renames its new state into place. A holder stopped (SIGSTOP, a paused VM) long enough for another
 * process to take over fails that check and writes nothing (exit 4). What remains is the few instructions
 * between that check and the rename itself (docs/reliability.md).
 */

/** A lock seen unchanged for this long belongs to a dead or stopped process and is taken over. */
export const STALE_LOCK_MS = 5_000;
/** How often a holder changes its lock's mtime. */
const LOCK_REFRESH_MS = 1_000;
/** A holder that has not refreshed its lock for longer than this does not write: a takeover may be near. */
export const MAX_UNREFRESHED_MS = STALE_LOCK_MS - 1_000;
/** Default wait for the state lock; must outlast STALE_LOCK_MS so a killed holder is taken over, not exit 4. */
export const DEFAULT_STATE_LOCK_WAIT_MS = 10_000;

export interface StateLock {
  /**
   * Right before a write becomes visible: check that the lock is still ours and fresh, and refresh it.
   * Throws exit 4 when it may have been lost; then nothing must be written.
   */
  confirmForWrite(): void;
  release(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Take the state lock, retrying with short jittered sleeps so many processes queue in milliseconds. */
export async function acquireStateLock(statePath: string, waitMs = DEFAULT_STATE_LOCK_WAIT_MS): Promise<StateLock> {
  const lockPath = `${statePath}.lock`;
  const start = monotonicMs();
  // The other holder's directory as last seen, and since when (monotonic) it has looked the same.
  let seen: { ino: number; mtimeMs: number; since: number } | undefined;
  for (let attempt = 0; ; attempt++) {
    if (makeLock(lockPath, statePath)) return holdLock(lockPath);
    const stats = lstatOrNull(lockPath);
    const now = monotonicMs();
    if (stats) {
      if (!stats.isDirectory()) throw notRegularError(lockPath, describeKind(stats), 'the state lock directory');
      if (!seen || seen.ino !== stats.ino || seen.mtimeMs !== stats.mtimeMs) {
        // Checked once per directory seen, not per poll: a non-empty one was planted (or committed), and
        // waiting out the stale period first would only delay the same refusal by 5 s.
        if (!seen || seen.ino !== stats.ino) refuseIfNotEmpty(lockPath);
        seen = { ino: stats.ino, mtimeMs: stats.mtimeMs, since: now };
      }
      else if (now - seen.since >= STALE_LOCK_MS) {
        takeOver(lockPath, seen);
        seen = undefined;
        continue;
      }
    }
    const remaining = waitMs - (now - start);
    if (remaining <= 0) {
      throw stateLockError(`could not take the lock on ${statePath} within ${formatSpan(waitMs)}: another process holds ${lockPath}`);
    }
    const backoff = Math.min(50, 1 + attempt * 2);
    await sleep(Math.min(remaining, backoff / 2 + Math.random() * backoff));
  }
}

/** The atomic `mkdir` of the lock: true when this call made it, false when a lock is there already. */
function makeLock(lockPath: string, statePath: string): boolean {
  try {
    fs.mkdirSync(lockPath);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw noSpaceError(error, path.dirname(statePath)) ?? stateError(`cannot lock state file ${statePath}: ${describeError(error)}`);
  }
}

/**
 * Remove a stale lock, but only the very directory judged stale: same inode and same mtime (each lock gets
 * a random sub-millisecond mtime when made, so a new lock that reuses the inode still differs).
 */
function takeOver(lockPath: string, stale: { ino: number; mtimeMs: number }): void {
  const stats = lstatOrNull(lockPath);
  if (!stats || stats.ino !== stale.ino || stats.mtimeMs !== stale.mtimeMs) return;
  try {
    fs.rmdirSync(lockPath);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return; // another waiter took it over first: try again
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      // harn-agents never puts anything in its lock directory: this one was planted (or committed).
      throw notOurLockError(lockPath);
    }
    throw stateError(`cannot remove the stale lock ${lockPath}: ${describeError(error)}`);
  }
}

/** harn-agents never puts anything in its lock directory: one with entries is not a lock it made. */
function refuseIfNotEmpty(lockPath: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(lockPath);
  } catch {
    return; // gone (released meanwhile) or unreadable: the mkdir loop and takeOver decide
  }
  if (entries.length > 0) throw notOurLockError(lockPath);
}

function notOurLockError(lockPath: string) {
  return stateError(`${lockPath} is not empty, so it is not a lock harn-agents made; nothing was written (remove it with rm -r, or see 'harn-agents doctor')`);
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

function holdLock(lockPath: string): StateLock {
  let ino: number;
  let mtimeMs: number;
  try {
    // A random sub-millisecond part makes this lock's (inode, mtime) unlike any lock before it.
    const stamp = new Date(Date.now());
    fs.utimesSync(lockPath, stamp, Date.now() / 1000 + Math.random() / 1000);
    const made = fs.lstatSync(lockPath);
    ino = made.ino;
    mtimeMs = made.mtimeMs;
  } catch (error) {
    try {
      fs.rmdirSync(lockPath);
    } catch {
      // Gone already, or not removable: a lock left behind is taken over after the stale period.
    }
    throw noSpaceError(error, path.dirname(lockPath)) ?? stateError(`cannot lock state file ${lockPath.slice(0, -'.lock'.length)}: ${describeError(error)}`);
  }
  let refreshedAt = monotonicMs();
  let lost = false;
  let released = false;

  /** Whether the directory is still the one we made, as we left it; if so, change its mtime again. */
  const refresh = (): boolean => {
    if (lost) return false;
    const stats = lstatOrNull(lockPath);
    if (!stats || stats.ino !== ino || stats.mtimeMs !== mtimeMs) {
      lost = true;
      return false;
    }
    try {
      // Any new value will do: waiters look for change, not for a time. Step by a millisecond past the
      // current one so two refreshes within a timestamp tick still differ.
      const next = new Date(Math.max(Date.now(), Math.floor(mtimeMs) + 1));
      fs.utimesSync(lockPath, next, next);
      mtimeMs = fs.lstatSync(lockPath).mtimeMs;
      refreshedAt = monotonicMs();
      return true;
    } catch {
      lost = true;
      return false;
    }
  };

  // No signal handler: a signal ends the call at once (its default action), whatever it is doing, and the
  // lock it leaves is taken over after the stale period, as after kill -9. A handler could not run during
  // the synchronous write anyway, and one removed with a signal pending would swallow that signal.
  const timer = setInterval(refresh, LOCK_REFRESH_MS);
  timer.unref();

  const release = (): void => {
    if (released) return;
    released = true;
    clearInterval(timer);
    // Remove it only while it is the very directory we made, as we last left it (not taken over).
    const stats = lstatOrNull(lockPath);
    if (stats && stats.ino === ino && stats.mtimeMs === mtimeMs) {
      try {
        fs.rmdirSync(lockPath);
      } catch {
        // Already taken over and replaced: it is not ours to remove; the next holder owns it.
      }
    }
  };

  return {
    confirmForWrite: () => {
      const fresh = monotonicMs() - refreshedAt <= MAX_UNREFRESHED_MS;
      if (!fresh || !refresh()) {
        lost = true;
        throw stateLockError(
          `lost the lock on ${lockPath.slice(0, -'.lock'.length)}: this process was stopped or stalled for over ${formatSpan(MAX_UNREFRESHED_MS)} while holding it, so another process may have taken over; nothing was written`,
        );
      }
    },
    release,
  };
}
