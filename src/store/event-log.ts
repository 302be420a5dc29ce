import fs from 'node:fs';
import path from 'node:path';
import type { HarnEvent } from '../core/events.js';
import { isHarnError, stateError } from '../core/errors.js';
import { describeError, errorCode } from './fs-errors.js';
import { checkOwner, checkSingleLink, describeKind, notRegularError, openRegular, readRegular, type OwnerRule } from './safe-fs.js';

/**
 * `.harn/events.jsonl`: the audit trail, one JSON object a line, appended under the state lock (right after
 * the state it describes is durable). Bounded by
 * rotation: once the file passes MAX_BYTES it is renamed to `events.jsonl.1` (replacing the older one), so
 * the trail keeps between one and two files' worth of the newest events. Opened like every file under
 * `.harn/`: never through a symlink, never a FIFO or device, never another user's (safe-fs.ts). Whatever
 * is planted in the log's place only costs the log: the change it describes is already committed.
 */
export const EVENTS_FILE = 'events.jsonl';
export const MAX_EVENT_LOG_BYTES = 1024 * 1024;

const APPEND = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT;

/**
 * Append events. Throws a one-line HarnError when the log cannot be written; callers that have already
 * committed the change report it as a warning, not as the command's failure.
 */
export function appendEvents(stateDir: string, events: readonly HarnEvent[], rule: OwnerRule, maxBytes = MAX_EVENT_LOG_BYTES): void {
  if (events.length === 0) return;
  const file = path.join(stateDir, EVENTS_FILE);
  try {
    rotateIfFull(file, maxBytes);
    const opened = openRegular(file, APPEND, rule);
    if (!opened) throw stateError(`cannot create ${file}`);
    try {
      fs.writeSync(opened.fd, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
      fs.fsyncSync(opened.fd);
    } finally {
      fs.closeSync(opened.fd);
    }
  } catch (error) {
    const why = isHarnError(error) ? error.message : describeError(error);
    throw stateError(`the event log ${file} could not be written: ${why}`);
  }
}

/**
 * What is wrong with the log files, one line each (for doctor): each must be absent or a regular file of the
 * caller's with one link. Nothing here blocks a write: a change is committed first and its events are then
 * skipped with a warning (appendEvents opens nothing that fails these checks).
 */
export function eventLogProblems(stateDir: string, rule: OwnerRule): { file: string; problem: string }[] {
  const problems: { file: string; problem: string }[] = [];
  for (const name of [EVENTS_FILE, `${EVENTS_FILE}.1`]) {
    const file = path.join(stateDir, name);
    try {
      const stats = fs.lstatSync(file, { throwIfNoEntry: false });
      if (!stats) continue;
      if (!stats.isFile()) throw notRegularError(file, describeKind(stats));
      checkOwner(file, stats, rule);
      checkSingleLink(file, stats);
    } catch (error) {
      problems.push({ file, problem: isHarnError(error) ? error.message : describeError(error) });
    }
  }
  return problems;
}

function rotateIfFull(file: string, maxBytes: number): void {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if (!stats.isFile()) throw notRegularError(file, describeKind(stats));
  if (stats.size < maxBytes) return;
  const older = `${file}.1`;
  const olderStats = fs.lstatSync(older, { throwIfNoEntry: false });
  if (olderStats && !olderStats.isFile()) throw notRegularError(older, describeKind(olderStats));
  fs.renameSync(file, older);
}

/** Every event still kept, oldest first. Lines that do not parse (a torn write after a crash) are skipped. */
export function readEvents(stateDir: string, rule: OwnerRule): { events: HarnEvent[]; skipped: number } {
  const events: HarnEvent[] = [];
  let skipped = 0;
  for (const name of [`${EVENTS_FILE}.1`, EVENTS_FILE]) {
    const text = readRegular(path.join(stateDir, name), rule);
    if (text === null) continue;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const event = JSON.parse(line) as HarnEvent;
        if (typeof event === 'object' && event !== null && typeof event.ts === 'number' && typeof event.type === 'string') events.push(event);
        else skipped++;
      } catch {
        skipped++;
      }
    }
  }
  return { events, skipped };
}
