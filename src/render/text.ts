import type { ClockFacts } from '../core/clock.js';
import { formatSpan } from '../core/durations.js';
import { escapeForTerminal as esc } from './escape.js';

/** What a command prints for people: text for stdout and for stderr (either may be empty). */
export interface Rendered {
  readonly stdout: string;
  readonly stderr: string;
}


/**
 * How a text quotes what others wrote (names, paths, reasons): escaped for a terminal (people, the default),
 * or as it is (a model, whose text travels JSON-escaped). One set of text helpers serves both.
 */
export type Quote = (text: string) => string;
export const forModel: Quote = (text) => text;

/** An agent as text: its id and its name (an AgentRef, src/commands/context.ts). */
export const agentLabel = (agent: { readonly id: number; readonly name: string }, quote: Quote = esc): string => `agent ${agent.id} (${quote(agent.name)})`;

export function expiresIn(expiresMs: number, nowMs: number): string {
  return `expires in ${formatSpan(Math.max(0, expiresMs - nowMs))}`;
}

/** One line on stderr saying which clock moved, by how much, and what to do (see core/clock.ts). */
export function clockWarning(clock: ClockFacts): string {
  const span = formatSpan(clock.behind_ms);
  const kept = 'times are counted from the registry, so no lock expires and no agent is reaped early';
  switch (clock.cause) {
    case 'registry_ahead':
      return (
        `harn-agents: warning: the registry's time is ${span} ahead of this machine's clock: a call with a clock ahead wrote it ` +
        `(its newest stamp is ${formatSpan(clock.registry_ahead_of_file_ms ?? 0)} after the state file's last write); ` +
        `locks last that much longer until it is rebased: see 'harn-agents doctor'`
      );
    case 'clock_went_back':
      return `harn-agents: warning: this machine's clock went back: it is ${formatSpan(clock.clock_behind_file_ms ?? 0)} behind the state file's last write; ${kept}`;
    default:
      return `harn-agents: warning: the clock is ${span} behind the newest time in the registry (the clock went back, or a writer's clock was ahead); ${kept}; see 'harn-agents doctor'`;
  }
}

/** " through src/api/" when the lock that holds a path is another path (a directory lock). */
export const through = (path: string, heldPath: string | undefined): string =>
  heldPath && heldPath !== path ? ` through ${esc(heldPath)}` : '';

export const because = (reason: string | null | undefined): string => (reason ? ` (reason: ${esc(reason)})` : '');

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A moment as a local clock time ("14:32"), with its date when it is not on the day of `nowMs`. */
export function clockTime(ms: number, nowMs: number): string {
  const at = new Date(ms);
  const hm = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  if (at.toDateString() === new Date(nowMs).toDateString()) return hm;
  return `${at.getFullYear()}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())} ${hm}`;
}
