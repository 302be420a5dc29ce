import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { getLocks } from 'proper-lockfile/lib/lockfile.js';
import { formatSpan } from '../core/durations.js';
import { stateError, stateLockError } from '../core/errors.js';
import { describeError, errorCode } from './fs-errors.js';

/**
 * The OS-level lock on the state file: proper-lockfile's atomic `mkdir` of `<state file>.lock`, whose mtime
 * the holder refreshes every second. Loaded only by commands that write, so read-only calls skip its cost.
 */

/** A lock whose mtime is older than this is taken to belong to a dead process and is taken over. */
export const STALE_LOCK_MS = 5_000;
/** How often a holder touches its lock (proper-lockfile's minimum). */
const LOCK_REFRESH_MS = 1_000;
/**
 * A holder that has not refreshed its lock for longer than this does not write: past it, another process
 * may be about to take the lock over.
 */
export const MAX_UNREFRESHED_MS = STALE_LOCK_MS - 1_000;
/** Default wait for the state lock; must outlast STALE_LOCK_MS so a killed holder is taken over, not exit 4. */
export const DEFAULT_STATE_LOCK_WAIT_MS = 10_000;

export interface StateLock {
  /**
   * Right before writing: check, synchronously, that the lock is still ours (its mtime is the one we last
   * set) and that we are well inside the stale period, then refresh it. proper-lockfile refreshes from a
   * timer, which cannot fire while this process is busy with synchronous work (parsing a large file).
   * Throws exit 4 when the lock may have been lost.
   */
  confirmForWrite(): void;
  release(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Take the state lock, retrying with short jittered sleeps so many processes queue in milliseconds. */
export async function acquireStateLock(statePath: string, waitMs = DEFAULT_STATE_LOCK_WAIT_MS): Promise<StateLock> {
  const deadline = Date.now() + waitMs;
  let compromised = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const release = await lockfile.lock(statePath, {
        realpath: false, // the state file may not exist yet
        stale: STALE_LOCK_MS,
        update: LOCK_REFRESH_MS,
        retries: 0,
        // The default throws from a timer; record it instead and refuse to write.
        onCompromised: () => {
          compromised = true;
        },
      });
      return {
        confirmForWrite: () => {
          if (compromised || !confirmAndRefresh(statePath)) {
            throw stateLockError(
              `could not keep the lock on ${statePath}: this process stalled for over ${formatSpan(MAX_UNREFRESHED_MS)} while holding it; nothing was written`,
            );
          }
        },
        release: async () => {
          await release().catch(() => undefined);
        },
      };
    } catch (error) {
      if (errorCode(error) !== 'ELOCKED') throw stateError(`cannot lock state file ${statePath}: ${describeError(error)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw stateLockError(`could not take the lock on ${statePath} within ${formatSpan(waitMs)}: another process holds ${statePath}.lock`);
      }
      const backoff = Math.min(50, 1 + attempt * 2);
      await sleep(Math.min(remaining, backoff / 2 + Math.random() * backoff));
    }
  }
}

function confirmAndRefresh(statePath: string): boolean {
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
