import { Chalk } from 'chalk';
import Table from 'cli-table3';
import { formatSpan } from '../core/durations.js';
import type { StatusResult } from '../commands/status.js';
import { escapeForTerminal as esc } from './escape.js';

/** The `status` table for people. Loaded only when it is printed: chalk and cli-table3 cost start-up time. */
export function renderStatusTable(result: StatusResult, color: boolean): string {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  if (result.agents.length === 0) return `no agents registered in ${esc(result.workspace)}\n`;
  const stateColor = { active: chalk.green, crashed: chalk.red, gone: chalk.gray } as const;
  const table = new Table({
    head: ['id', 'name', 'state', 'last seen', 'edits', 'locks'],
    style: { head: color ? ['bold'] : [], border: color ? ['gray'] : [] },
  });
  for (const agent of result.agents) {
    const locks = agent.locks.map((l) => `${esc(l.path)} (${formatSpan(l.expires_ms - result.now_ms)} left)`).join('\n');
    table.push([
      String(agent.id),
      esc(agent.name),
      stateColor[agent.state](agent.state),
      `${formatSpan(result.now_ms - agent.last_seen_ms)} ago`,
      String(agent.edit_count),
      locks || chalk.gray('-'),
    ]);
  }
  return `${table.toString()}\n`;
}
