import path from 'node:path';
import { Chalk } from 'chalk';
import { formatSpan } from '../../core/durations.js';
import type { LocksView, StatusResult } from './types.js';
import { renderBoxTable } from '../../render/box-table.js';
import { escapeForTerminal as esc } from '../../render/escape.js';
import type { Hold } from '../hold.js';

/** How a lock is held, after its path in the status table: nothing for an exclusive path lock. */
const howHeld = (l: Hold): string => (l.mode === 'shared' ? ' shared' : l.slots !== null ? ` ${l.slots} slot${l.slots === 1 ? '' : 's'}` : '');
/** The same in a `path=<ms left>` field: `:shared`, `:slots=2`. */
const tsvHow = (l: Hold): string => (l.mode === 'shared' ? ':shared' : l.slots !== null ? `:slots=${l.slots}` : '');

/** The `status` tables for people. Loaded only when one is printed, so other commands skip chalk. */
export function renderStatusTable(result: StatusResult, color: boolean, maxWidth?: number): string {
  const hiddenNote = result.hidden ? `(${result.hidden} crashed or gone agent${result.hidden === 1 ? '' : 's'} holding nothing hidden; --all shows them)\n` : '';
  if (result.agents.length === 0) return `no agents to show in ${esc(result.workspace)}\n${hiddenNote}`;
  const chalk = new Chalk({ level: color ? 1 : 0 });
  const stateColor = { active: chalk.green, crashed: chalk.red, gone: chalk.gray } as const;
  // Optional columns, shown when some agent has something to show in them.
  const timeouts = result.agents.some((a) => a.own_timeout);
  // Where agents registered from matters once they differ: another worktree, or another branch.
  const worktrees = result.agents.some((a) => a.worktree !== null && (a.worktree !== result.workspace || a.branch !== result.agents[0]?.branch));
  const where = (worktree: string | null, branch: string | null): string =>
    worktree === null ? '-' : `${esc(path.relative(result.workspace, worktree) || '.')}${branch === null ? '' : ` (${esc(branch)})`}`;
  const locksColumn = 5 + Number(timeouts) + Number(worktrees);
  const table = renderBoxTable({
    head: ['id', 'name', 'state', 'last seen', ...(timeouts ? ['timeout'] : []), 'edits', ...(worktrees ? ['worktree'] : []), 'locks'],
    rows: result.agents.map((agent) => [
      String(agent.id),
      esc(agent.name),
      agent.state,
      `${formatSpan(result.now_ms - agent.last_seen_ms)} ago`,
      ...(timeouts ? [formatSpan(agent.timeout_ms)] : []),
      String(agent.edit_count),
      ...(worktrees ? [where(agent.worktree, agent.branch)] : []),
      agent.locks
        .map((l) => `${esc(l.path)}${howHeld(l)} (${formatSpan(l.expires_ms - result.now_ms)} left${l.reason ? `: ${esc(l.reason)}` : ''})`)
        .join('\n') || '-',
    ]),
    paint: (text, column, row) => {
      if (column === 2) return stateColor[result.agents[row]?.state ?? 'active'](text);
      if (column === locksColumn && text.trim() === '-') return chalk.gray(text);
      return text;
    },
    paintHead: (text) => chalk.bold(text),
    paintBorder: (text) => chalk.gray(text),
    maxWidth,
  });
  return `${table}\n${hiddenNote}`;
}

/** What the table says besides its rows (nothing to show; agents hidden), for stderr beside tab-separated rows. */
export function statusNotes(result: StatusResult): string {
  const hidden = result.hidden ? `(${result.hidden} crashed or gone agent${result.hidden === 1 ? '' : 's'} holding nothing hidden; --all shows them)\n` : '';
  return result.agents.length === 0 ? `no agents to show in ${esc(result.workspace)}\n${hidden}` : hidden;
}

/** A field of a tab-separated row: tabs and newlines would split it, so they are escaped too. */
const field = (text: string): string => esc(text).replaceAll('\t', '\\t').replaceAll('\n', '\\n');
const tsv = (rows: ReadonlyArray<readonly string[]>): string => rows.map((row) => `${row.map(field).join('\t')}\n`).join('');

/**
 * `status` into a pipe: one agent a line, tab-separated, no heading, no box (as `gh` does), for grep, cut
 * and awk: id, name, state, last seen (ms ago), timeout (ms), edits, worktree (or -), branch (or -), locks
 * (`path=<ms left>`, then `:shared` or `:slots=N` when so held; space-separated; - for none).
 */
export function renderStatusTsv(result: StatusResult): string {
  return tsv(
    result.agents.map((a) => [
      String(a.id),
      a.name,
      a.state,
      String(result.now_ms - a.last_seen_ms),
      String(a.timeout_ms),
      String(a.edit_count),
      a.worktree ?? '-',
      a.branch ?? '-',
      a.locks.map((l) => `${l.path}=${l.expires_ms - result.now_ms}${tsvHow(l)}`).join(' ') || '-',
    ]),
  );
}

/** `status --locks` into a pipe: path, holder id, holder name, reason (or -), ms left, mode, slots (or -); soonest expiry first. */
export function renderLocksTsv(view: LocksView): string {
  return tsv(view.locks.map((l) => [l.path, String(l.agent.id), l.agent.name, l.reason ?? '-', String(l.expires_ms - view.now_ms), l.mode, l.slots === null ? '-' : String(l.slots)]));
}

/** `status --locks`: one row per live lock, soonest expiry first. */
export function renderLocksTable(view: LocksView, color: boolean, maxWidth?: number): string {
  if (view.locks.length === 0) return 'no live locks\n';
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return `${renderBoxTable({
    head: ['path', 'holder', 'mode', 'reason', 'time left'],
    rows: view.locks.map((l) => [
      `${esc(l.path)}${l.kind === 'pattern' ? ' (pattern)' : ''}`,
      `${l.agent.id} (${esc(l.agent.name)})`,
      l.slots !== null ? `${l.slots} slot${l.slots === 1 ? '' : 's'}` : l.mode,
      l.reason ? esc(l.reason) : '-',
      formatSpan(l.expires_ms - view.now_ms),
    ]),
    paintHead: (text) => chalk.bold(text),
    paintBorder: (text) => chalk.gray(text),
    maxWidth,
    shrink: 2,
  })}\n`;
}
