import { Chalk } from 'chalk';
import { formatSpan } from '../core/durations.js';
import type { StatusResult } from '../commands/status.js';
import { renderBoxTable } from './box-table.js';
import { escapeForTerminal as esc } from './escape.js';

/** The `status` table for people. Loaded only when it is printed, so other commands skip chalk. */
export function renderStatusTable(result: StatusResult, color: boolean): string {
  if (result.agents.length === 0) return `no agents registered in ${esc(result.workspace)}\n`;
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
  return `${table}\n`;
}
