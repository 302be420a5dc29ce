import fs from 'node:fs';
import { readRegular } from '../store/safe-fs.js';
import { ExitCode, HarnError, stateError } from '../core/errors.js';
import { decodeSnapshot } from '../store/codec.js';
import { describeError, errorCode } from '../store/fs-errors.js';
import type { Context } from './context.js';

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
  let text: string;
  try {
    // Anything but a regular file (a directory, symlink, FIFO) is moved aside unread: it is not a state.
    text = fs.lstatSync(statePath).isFile() ? (readRegular(statePath, ctx.workspace) ?? '') : '';
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new HarnError(ExitCode.no, `there is no state file at ${statePath}: nothing to reset`);
    throw stateError(`cannot read ${statePath}: ${describeError(error)}; nothing was moved`);
  }
  if (text !== '' && decodes(text)) {
    throw new HarnError(ExitCode.no, `the state file ${statePath} is valid: nothing to reset (to replace it, use import)`);
  }
  const nextId = nextIdAfter(text);
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
