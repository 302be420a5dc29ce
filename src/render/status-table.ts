import { Chalk } from 'chalk';
import { formatSpan } from '../core/durations.js';
import type { LocksView, StatusResult } from '../commands/status.js';
import { renderBoxTable } from './box-table.js';
import { escapeForTerminal as esc } from './escape.js';

/** The `status` tables for people. Loaded only when one is printed, so other commands skip chalk. */
export function renderStatusTable(result: StatusResult, color: boolean): string {
  const hiddenNote = result.hidden ? `(${result.hidden} crashed or gone agent${result.hidden === 1 ? '' : 's'} holding nothing hidden; --all shows them)\n` : '';
  if (result.agents.length === 0) return `no agents to show in ${esc(result.workspace)}\n${hiddenNote}`;
  const chalk = new Chalk({ level: color ? 1 : 0 });
  const stateColor = { active: chalk.green, crashed: chalk.red, gone: chalk.gray } as const;
  const table = renderBoxTable({
    head: ['id', 'name', 'state', 'last seen', 'edits', 'locks'],
    rows: result.agents.map((agent) => [
      String(agent.id),
      esc(agent.name),
      agent.state,
      `${formatSpan(result.now_ms - agent.last_seen_ms)} ago`,
      String(agent.edit_count),
      agent.locks
        .map((l) => `${esc(l.path)} (${formatSpan(l.expires_ms - result.now_ms)} left${l.reason ? `: ${esc(l.reason)}` : ''})`)
        .join('\n') || '-',
    ]),
    paint: (text, column, row) => {
      if (column === 2) return stateColor[result.agents[row]?.state ?? 'active'](text);
      if (column === 5 && text.trim() === '-') return chalk.gray(text);
      return text;
    },
    paintHead: (text) => chalk.bold(text),
    paintBorder: (text) => chalk.gray(text),
  });
  return `${table}\n${hiddenNote}`;
}

/** `status --locks`: one row per live lock, soonest expiry first. */
export function renderLocksTable(view: LocksView, color: boolean): string {
  if (view.locks.length === 0) return 'no live locks\n';
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return `${renderBoxTable({
    head: ['path', 'holder', 'reason', 'time left'],
    rows: view.locks.map((l) => [esc(l.path), `${l.holder.id} (${esc(l.holder.name)})`, l.reason ? esc(l.reason) : '-', formatSpan(l.expires_ms - view.now_ms)]),
    paintHead: (text) => chalk.bold(text),
    paintBorder: (text) => chalk.gray(text),
  })}\n`;
}
