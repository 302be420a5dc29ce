import fs from 'node:fs';
import { checkOwner, MAX_FILE_BYTES, readRegular, type OwnerRule } from '../../store/safe-fs.js';
import { ExitCode, HarnError, isHarnError, stateError } from '../../core/errors.js';
import { decodeSnapshot } from '../../store/codec.js';
import { describeError, errorCode } from '../../store/fs-errors.js';
import type { Context } from '../context.js';

export interface StateResetResult {
  /** Where the invalid state file now is, beside the new one. */
  readonly moved_to: string;
  /** The id the fresh registry hands out next: past every id the broken file mentions. */
  readonly next_id: number;
  readonly state: string;
}

/** Ids in the broken text (`"id": N`, `"next_id": N`), so the fresh registry never hands one out again. */
export function nextIdAfter(text: string): number {
  let next = 1;
  for (const match of text.matchAll(/"(next_)?id"\s*:\s*(\d{1,16})\b/g)) {
    const value = Number(match[2]);
    // next_id is the next id to hand out; an agent's id is one handed out already.
    const after = match[1] ? value : value + 1;
    if (Number.isSafeInteger(after) && after < Number.MAX_SAFE_INTEGER) next = Math.max(next, after);
  }
  return next;
}

/**
 * nextIdAfter over a state file too large to read whole: 1 MiB at a time, each window starting with the
 * last 64 characters of the one before, so an id cut in two by a read is still seen. Memory stays bounded
 * however large the file (a sparse one can be far larger than the disk).
 */
function nextIdAfterLargeFile(statePath: string, rule: OwnerRule): number {
  const fd = fs.openSync(statePath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return 1; // swapped for something else since the lstat: moved aside unread
    checkOwner(statePath, stats, rule);
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let next = 1;
    let carry = '';
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
      const window = carry + buffer.toString('latin1', 0, n);
      next = Math.max(next, nextIdAfter(window));
      carry = window.slice(-64);
    }
    return next;
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether the codec accepts `text` (anything it throws, a stack overflow on absurd nesting included, is a no). */
function decodes(text: string): boolean {
  try {
    decodeSnapshot(text);
    return true;
  } catch {
    return false;
  }
}

/** A name beside the state file that nothing uses yet: `agents.json.broken-<ISO time>`. */
function asideName(statePath: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replaceAll(':', '-');
  for (let n = 0; ; n++) {
    const candidate = `${statePath}.broken-${stamp}${n ? `-${n}` : ''}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/**
 * `doctor --reset`: the way back from a state file the tool cannot read. The broken file is moved aside
 * (renamed, never deleted or rewritten) and a fresh registry starts, with `next_id` past every id the broken
 * file mentions. A valid state is refused (exit 1): `import` replaces one of those. File store only.
 */
export async function resetState(ctx: Context): Promise<StateResetResult> {
  const { statePath } = ctx.workspace;
  let nextId: number;
  try {
    const stats = fs.lstatSync(statePath);
    if (!stats.isFile()) {
      nextId = 1; // a directory, symlink or FIFO is moved aside unread: it is not a state
    } else if (stats.size > MAX_FILE_BYTES) {
      // Too large to read whole (and so never a valid state, the refusal doctor reported): scanned for ids.
      nextId = nextIdAfterLargeFile(statePath, ctx.workspace);
    } else {
      const text = readRegular(statePath, ctx.workspace) ?? '';
      if (text !== '' && decodes(text)) {
        throw new HarnError(ExitCode.no, `the state file ${statePath} is valid: nothing to reset (to replace it, use import)`);
      }
      nextId = nextIdAfter(text);
    }
  } catch (error) {
    if (isHarnError(error)) throw error;
    if (errorCode(error) === 'ENOENT') throw new HarnError(ExitCode.no, `there is no state file at ${statePath}: nothing to reset`);
    throw stateError(`cannot read ${statePath}: ${describeError(error)}; nothing was moved`);
  }
  const movedTo = asideName(statePath, ctx.clock());
  try {
    fs.renameSync(statePath, movedTo);
  } catch (error) {
    throw stateError(`cannot move ${statePath} aside: ${describeError(error)}; nothing was changed`);
  }
  // A fresh registry (or whatever another process started meanwhile: its agents are kept), past old ids.
  return ctx.store.transact('update', ({ registry, nowMs, record }) => {
    registry.raiseNextId(nextId);
    record({ type: 'state-reset', ts: nowMs, moved_to: movedTo, next_id: registry.nextId });
    return { moved_to: movedTo, next_id: registry.nextId, state: statePath };
  });
}
