import type { HarnEvent } from '../core/events.js';
import type { Context } from './context.js';

export interface LogOptions {
  /** Only events from this long ago until now. */
  readonly sinceMs?: number;
}

export interface LogResult {
  readonly events: readonly HarnEvent[];
  /** Lines of the log that did not parse (a write torn by a crash) and were left out. */
  readonly skipped_lines: number;
}

/** The audit trail (`.harn/events.jsonl`): forced releases, reaps and with-lock runs, oldest first. */
export async function log(ctx: Context, options: LogOptions): Promise<LogResult> {
  const { events, skipped } = await ctx.store.readEvents();
  const from = options.sinceMs === undefined ? -Infinity : ctx.clock() - options.sinceMs;
  return { events: events.filter((e) => e.ts >= from), skipped_lines: skipped };
}
