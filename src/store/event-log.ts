import fs from 'node:fs';
import path from 'node:path';
import type { HarnEvent } from '../core/events.js';
import { stateError } from '../core/errors.js';
import { describeError, errorCode } from './fs-errors.js';

/**
 * `.harn/events.jsonl`: the audit trail, one JSON object a line, appended under the state lock. Bounded by
 * rotation: once the file passes MAX_BYTES it is renamed to `events.jsonl.1` (replacing the older one), so
 * the trail keeps between one and two files' worth of the newest events.
 */
export const EVENTS_FILE = 'events.jsonl';
export const MAX_EVENT_LOG_BYTES = 1024 * 1024;

export function appendEvents(stateDir: string, events: readonly HarnEvent[], maxBytes = MAX_EVENT_LOG_BYTES): void {
  if (events.length === 0) return;
  const file = path.join(stateDir, EVENTS_FILE);
  try {
    if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) >= maxBytes) fs.renameSync(file, `${file}.1`);
    const fd = fs.openSync(file, 'a');
    try {
      fs.writeSync(fd, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw stateError(`the change was saved, but the event log ${file} could not be written: ${describeError(error)}`);
  }
}

/** Every event still kept, oldest first. Lines that do not parse (a torn write after a crash) are skipped. */
export function readEvents(stateDir: string): { events: HarnEvent[]; skipped: number } {
  const events: HarnEvent[] = [];
  let skipped = 0;
  for (const name of [`${EVENTS_FILE}.1`, EVENTS_FILE]) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(stateDir, name), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') continue;
      throw stateError(`cannot read the event log ${path.join(stateDir, name)}: ${describeError(error)}`);
    }
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
