import type { HarnEvent } from '../core/events.js';
import { byKey, optionalDuration, type InputNames } from '../core/validate.js';
import { flagNames } from './argv.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import type { Duration } from '../core/durations.js';
import { formatSpan } from '../core/durations.js';
import { optionsObject } from '../core/validate.js';
import { agentLabel } from '../render/text.js';
import { escapeForTerminal as esc } from '../render/escape.js';

export interface LogOptions {
  /** Only events from this long ago until now: ms, or as typed ("1h"). */
  readonly sinceMs?: Duration;
  /** How the calling face names these options in a refusal (default: by key). */
  readonly names?: InputNames;
}

export interface LogResult {
  readonly events: readonly HarnEvent[];
  /** Lines of the log that did not parse (a write torn by a crash) and were left out. */
  readonly skipped_lines: number;
}

/** The audit trail (`.harn/events.jsonl`): forced releases, reaps and with-lock runs, oldest first. */
export async function log(ctx: Context, options: LogOptions): Promise<LogResult> {
  const sinceMs = optionalDuration(options.sinceMs, (options.names ?? byKey)('since'));
  const { events, skipped } = await ctx.store.readEvents();
  const from = sinceMs === undefined ? -Infinity : ctx.clock() - sinceMs;
  return { events: events.filter((e) => e.ts >= from), skipped_lines: skipped };
}

function describeEvent(e: HarnEvent): string {
  switch (e.type) {
    case 'reap':
      return `reap: ${agentLabel(e.agent)} marked crashed (last seen ${new Date(e.last_seen_ms).toISOString()})${e.released.length ? `, released ${e.released.map(esc).join(', ')}` : ''}`;
    case 'force-release':
      return `force-release${e.by === null ? '' : ` by agent ${e.by}`}: ${e.broken.map((b) => `${esc(b.path)} (held by ${agentLabel(b.holder)})`).join(', ')}; reason: ${esc(e.reason)}`;
    case 'with-lock':
      return `with-lock: ${agentLabel(e.agent)} ran ${esc(e.program)} holding ${e.paths.map(esc).join(', ')} for ${formatSpan(e.duration_ms)}, ${e.signal ? `killed by ${e.signal}` : `exit ${e.exit_code}`}${e.lost ? `; lost its lock on ${e.lost.map(esc).join(', ')} and was stopped` : ''}`;
    case 'session-end':
      return `session-end: ${agentLabel(e.agent)} ${e.cause === 'process-gone' ? 'found its process gone' : 'ended'}${e.released.length ? `; released ${e.released.map(esc).join(', ')}` : ''}${e.kept.length ? `; kept the claims on uncommitted ${e.kept.map(esc).join(', ')}` : ''}`;
    case 'clock-rebase':
      return `clock-rebase: the registry's times were moved back ${formatSpan(e.offset_ms)} to this clock (${e.agents} agents, ${e.locks} locks)`;
    case 'ids-repair':
      return `ids-repair: next_id ${e.from} left no agent id to hand out; it is now ${e.next_id}`;
    case 'state-reset':
      return `state-reset: an invalid state file was moved to ${esc(e.moved_to)}; a fresh registry starts at id ${e.next_id}`;
    default:
      return `event: ${esc(JSON.stringify(e))}`;
  }
}

export const command = defineCommand({
  name: 'log',
  run: log,
  render: (r) => {
    const lines = r.events.map((e) => `${new Date(e.ts).toISOString()}  ${describeEvent(e)}`);
    if (r.skipped_lines) lines.push(`(${r.skipped_lines} unreadable line${r.skipped_lines === 1 ? '' : 's'} skipped)`);
    return { stdout: (lines.length ? lines : ['no events']).map((l) => `${l}\n`).join(''), stderr: '' };
  },
  cli: {
    description: 'show the audit trail: forced releases, reaped agents and with-lock runs',
    options: [{ flags: '--since <duration>', help: 'only events this recent' }],
    examples: ['harn-agents log --since 1h', 'harn-agents log --json'],
    input: ({ opts }) => ({ sinceMs: opts.since as string | undefined, names: flagNames() }),
  },
  library: { method: 'log', input: (options?: { since?: Duration }): LogOptions => ({ sinceMs: optionsObject(options, 'options').since as Duration | undefined }) },
});
