import type { ClockRebaseResult } from './clock-rebase.js';
import type { DoctorResult } from './types.js';
import type { StateResetResult } from './state-reset.js';
import type { IdsRepairResult } from './ids-repair.js';
import { formatSpan } from '../../core/durations.js';
import { escapeForTerminal as esc } from '../../render/escape.js';
import type { Rendered } from '../../render/text.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per check; under each problem, the command that fixes it. */
export function renderDoctor(r: DoctorResult): Rendered {
  const width = Math.max(...r.checks.map((c) => c.check.length));
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${c.ok ? 'ok     ' : 'PROBLEM'}  ${c.check.padEnd(width)}  ${esc(c.detail)}`);
    if (c.fix) lines.push(`${' '.repeat(9 + width)}  fix: ${esc(c.fix)}`);
  }
  const problems = r.checks.filter((c) => !c.ok).length;
  lines.push(problems ? `${problems} problem${problems === 1 ? '' : 's'} found: run each fix, then harn-agents doctor again` : 'healthy');
  return { stdout: lines.map((l) => `${l}\n`).join(''), stderr: '' };
}

export const renderClockRebase = (r: ClockRebaseResult): Rendered => ({
  stdout: r.rebased
    ? `rebased the registry to this clock: every time moved back ${formatSpan(r.offset_ms)} (${plural(r.agents, 'agent')}, ${plural(r.locks, 'lock')}; each lock keeps its time left)\n`
    : "the registry's time is not ahead of this clock: nothing to rebase\n",
  stderr: '',
});

export const renderIdsRepair = (r: IdsRepairResult): Rendered => ({
  stdout: r.repaired ? `next_id moved from ${r.from} to ${r.next_id}: agents can be registered again (every agent and lock kept)\n` : `agent ids are not exhausted (next_id ${r.from}): nothing to repair\n`,
  stderr: '',
});

export const renderStateReset = (r: StateResetResult): Rendered => ({
  stdout:
    `moved the invalid state file to ${esc(r.moved_to)}\n` +
    `started a fresh registry at ${esc(r.state)} (next id ${r.next_id}); to restore a snapshot: harn-agents import FILE\n`,
  stderr: '',
});
