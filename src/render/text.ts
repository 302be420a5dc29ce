import { formatSpan } from '../core/durations.js';
import type { CheckResult } from '../commands/check.js';
import type { AgentRef } from '../commands/context.js';
import type { HookResult } from '../commands/hook.js';
import type { LogResult } from '../commands/log.js';
import type { HarnEvent } from '../core/events.js';
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

/** " through src/api/" when the lock that holds a path is another path (a directory lock). */
export const through = (path: string, heldPath: string | undefined): string =>
  heldPath && heldPath !== path ? ` through ${esc(heldPath)}` : '';

export const because = (reason: string | null | undefined): string => (reason ? ` (reason: ${esc(reason)})` : '');

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
    ...conflicts.map(
      (p) =>
        `refused: ${esc(p.path)} is held by ${agentLabel(p.holder as AgentRef)}${through(p.path, p.held_path)}${because(p.reason)}, ${expiresIn(p.expires_ms ?? nowMs, nowMs)}`,
    ),
    `nothing was locked for agent ${r.agent}`,
  ]);
}

export function renderRelease(r: ReleaseResult): Rendered {
  if (r.broken) {
    return out([
      ...r.broken.map((b) => `broke ${esc(b.path)}: it was held by ${agentLabel(b.holder)}${because(b.lock_reason)}`),
      ...r.not_held.map((p) => `${esc(p)} was not locked by anyone`),
    ]);
  }
  return out([...r.released.map((p) => `released ${esc(p)}`), ...r.not_held.map((p) => `${esc(p)} was not locked by agent ${r.agent}`)]);
}

export const renderHolder = (r: HolderResult, nowMs: number): Rendered =>
  out(
    r.map((p) =>
      p.holder
        ? `${esc(p.path)}: ${agentLabel(p.holder)}${through(p.path, p.holder.held_path)}${because(p.holder.reason)}, ${expiresIn(p.holder.expires_ms, nowMs)}`
        : `${esc(p.path)}: free`,
    ),
  );

export function renderCheck(r: CheckResult, nowMs: number): Rendered {
  if (r.guard === 'off') return out([]);
  const lines = r.conflicts.map(
    (c) =>
      `${esc(c.path)}: held by ${agentLabel(c.holder)}${through(c.path, c.held_path)}${because(c.reason)}, ${expiresIn(c.expires_ms, nowMs)}`,
  );
  if (r.conflicts.length === 0) return out([]);
  const verdict =
    r.guard === 'warn'
      ? `harn-agents: warning: ${r.conflicts.length} of ${r.checked} paths are held by other agents (HARN_GUARD=warn: not refusing)`
      : `harn-agents: ${r.conflicts.length} of ${r.checked} paths are held by other agents`;
  return err([...lines, verdict]);
}

function describeEvent(e: HarnEvent): string {
  switch (e.type) {
    case 'reap':
      return `reap: ${agentLabel(e.agent)} marked crashed (last seen ${new Date(e.last_seen_ms).toISOString()})${e.released.length ? `, released ${e.released.map(esc).join(', ')}` : ''}`;
    case 'force-release':
      return `force-release${e.by === null ? '' : ` by agent ${e.by}`}: ${e.broken.map((b) => `${esc(b.path)} (held by ${agentLabel(b.holder)})`).join(', ')}; reason: ${esc(e.reason)}`;
    case 'with-lock':
      return `with-lock: ${agentLabel(e.agent)} ran ${esc(e.command.join(' '))} holding ${e.paths.map(esc).join(', ')} for ${formatSpan(e.duration_ms)}, ${e.signal ? `killed by ${e.signal}` : `exit ${e.exit_code}`}`;
    default:
      return `event: ${esc(JSON.stringify(e))}`;
  }
}

export const renderHook = (r: HookResult): Rendered =>
  out([
    ...r.changes,
    ...(r.action === 'status'
      ? r.hooks.map((h) => `${h.name}: ${h.state === 'installed' ? 'installed' : h.state === 'foreign' ? 'another hook, not harn-agents' : 'not installed'}${h.previous ? ` (previous hook kept as ${h.name}.harn-previous)` : ''}`)
      : []),
    `hooks directory: ${esc(r.hooks_dir)}`,
  ]);

export const renderLog = (r: LogResult): Rendered => {
  const lines = r.events.map((e) => `${new Date(e.ts).toISOString()}  ${describeEvent(e)}`);
  if (r.skipped_lines) lines.push(`(${r.skipped_lines} unreadable line${r.skipped_lines === 1 ? '' : 's'} skipped)`);
  return out(lines.length ? lines : ['no events']);
};
