import { formatSpan } from '../core/durations.js';
import type { AgentRef } from '../commands/context.js';
import type { HeartbeatResult } from '../commands/heartbeat.js';
import type { HolderResult } from '../commands/holder.js';
import type { LockResult } from '../commands/lock.js';
import type { NoteEditResult } from '../commands/note-edit.js';
import type { ReapResult } from '../commands/reap.js';
import type { RegisterResult } from '../commands/register.js';
import type { ReleaseResult } from '../commands/release.js';
import type { UnregisterResult } from '../commands/unregister.js';
import { escapeForTerminal as esc } from './escape.js';

/** What a command prints for people: text for stdout and for stderr (either may be empty). */
export interface Rendered {
  readonly stdout: string;
  readonly stderr: string;
}

const out = (lines: readonly string[]): Rendered => ({ stdout: lines.map((l) => `${l}\n`).join(''), stderr: '' });
const err = (lines: readonly string[]): Rendered => ({ stdout: '', stderr: lines.map((l) => `${l}\n`).join('') });

export const agentLabel = (agent: AgentRef): string => `agent ${agent.id} (${esc(agent.name)})`;

export function expiresIn(expiresMs: number, nowMs: number): string {
  return `expires in ${formatSpan(Math.max(0, expiresMs - nowMs))}`;
}

export const clockWarning = (behindMs: number): string =>
  `harn-agents: warning: the system clock is ${formatSpan(behindMs)} behind the newest time in the registry (it went back); ` +
  'times are counted from the registry, so no lock expires and no agent is reaped early';

export const renderRegister = (r: RegisterResult): Rendered => out([String(r.id)]);

export const renderHeartbeat = (r: HeartbeatResult): Rendered => out([`${agentLabel(r)} is ${r.state}`]);

export const renderUnregister = (r: UnregisterResult): Rendered =>
  out([r.removed ? `unregistered ${agentLabel({ id: r.id, name: r.name ?? '' })}` : `agent ${r.id} is not registered; nothing to do`]);

export const renderNoteEdit = (r: NoteEditResult): Rendered =>
  r.counted
    ? out([`${agentLabel(r)} has ${r.edit_count} edit${r.edit_count === 1 ? '' : 's'}`])
    : err([`agent ${r.id} is not registered; no edit counted`]);

export const renderReap = (r: ReapResult): Rendered =>
  out(r.reaped.length ? r.reaped.map((a) => `reaped ${agentLabel(a)}: marked crashed, locks released`) : ['no silent agent to reap']);

export function renderLock(r: LockResult, nowMs: number): Rendered {
  if (r.granted) {
    return out(r.paths.map((p) => `locked ${esc(p.path)} for ${agentLabel(p.holder ?? { id: r.agent, name: '' })}, ${expiresIn(p.expires_ms ?? nowMs, nowMs)}`));
  }
  const conflicts = r.paths.filter((p) => p.holder);
  return err([
    ...conflicts.map((p) => `refused: ${esc(p.path)} is held by ${agentLabel(p.holder as AgentRef)}, ${expiresIn(p.expires_ms ?? nowMs, nowMs)}`),
    `nothing was locked for agent ${r.agent}`,
  ]);
}

export const renderRelease = (r: ReleaseResult): Rendered =>
  out([...r.released.map((p) => `released ${esc(p)}`), ...r.not_held.map((p) => `${esc(p)} was not locked by agent ${r.agent}`)]);

export const renderHolder = (r: HolderResult, nowMs: number): Rendered =>
  out(r.map((p) => (p.holder ? `${esc(p.path)}: ${agentLabel(p.holder)}, ${expiresIn(p.holder.expires_ms, nowMs)}` : `${esc(p.path)}: free`)));
