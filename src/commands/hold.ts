import type { LockKind } from '../core/glob.js';
import type { LockHold, LockMode } from '../core/registry.js';
import { agentLabel, because, expiresIn, through } from '../render/text.js';
import { agentRef, type AgentRef } from './context.js';
import { AGENT_REF, agentText, expiresText, NULLABLE_STRING } from './mcp-schema.js';

/**
 * The one shape of a hold in every JSON answer (lock refusals and grants, check conflicts, holder, status,
 * release, MCP results, the library's types): a live lock, by whom and how it is held.
 */
export interface Hold {
  /** The lock's own key: a path, a directory (`src/`), a pattern (`src/**\/*.ts`) or a resource (`@gpu`). */
  readonly path: string;
  readonly kind: LockKind;
  readonly mode: LockMode;
  /** A resource's slots (how many may hold it at once); null for paths. */
  readonly slots: number | null;
  readonly agent: AgentRef;
  readonly expires_ms: number;
  readonly reason: string | null;
}

/** A path (or key) asked about, and every live lock of others that holds it: the shape wherever a path can have several holders. */
export interface PathHolds {
  readonly path: string;
  readonly holders: readonly Hold[];
  /**
   * How long from the answer's `now_ms` until the holds listed are gone, by their expiries (they may be renewed
   * or released before): for a resource, until enough of its holders' slots free up; null when none holds it.
   */
  readonly retry_after_ms: number | null;
}

export const holdJson = (hold: LockHold): Hold => ({
  path: hold.path,
  kind: hold.kind,
  mode: hold.mode,
  slots: hold.slots ?? null,
  agent: agentRef(hold.agent),
  expires_ms: hold.expiresMs,
  reason: hold.reason ?? null,
});

/**
 * When the holds stop holding, by their expiries: for a resource with N slots held by k others (k >= N),
 * once k-N+1 of them expire; otherwise once they all have.
 */
export function retryAfterMs(holds: readonly Hold[], nowMs: number, wantedSlots?: number): number | null {
  if (holds.length === 0) return null;
  const expiries = holds.map((h) => h.expires_ms).sort((a, b) => a - b);
  const slots = wantedSlots ?? holds[0]?.slots ?? null;
  const resource = holds.every((h) => h.kind === 'resource') && slots !== null;
  const freeAt = resource ? (expiries[Math.max(0, holds.length - slots)] as number) : (expiries[expiries.length - 1] as number);
  return Math.max(0, freeAt - nowMs);
}

export function pathHolds(path: string, holds: readonly LockHold[], nowMs: number, wantedSlots?: number): PathHolds {
  const holders = holds.map(holdJson);
  return { path, holders, retry_after_ms: retryAfterMs(holders, nowMs, wantedSlots) };
}

/** How a hold is held, for text: "" for an exclusive lock (a resource's one slot too), " (shared)", " (one of 2 slots)". */
export function howHeld(hold: Hold): string {
  if (hold.mode === 'shared') return ' (shared)';
  if (hold.slots !== null && hold.slots > 1) return ` (one of ${hold.slots} slots)`;
  return '';
}

/** One hold of `path` as a line's tail: "agent 1 (a) through src/ (shared) (reason: x), expires in 5m". */
export const holdText = (path: string, hold: Hold, nowMs: number): string =>
  `${agentLabel(hold.agent)}${through(path, hold.path)}${howHeld(hold)}${because(hold.reason)}, ${expiresIn(hold.expires_ms, nowMs)}`;

/** The same for a model (MCP), unescaped. */
export const holdSays = (path: string, hold: Hold, nowMs: number): string =>
  `${agentText(hold.agent)}${hold.path !== path ? ` through ${hold.path}` : ''}${howHeld(hold)}${hold.reason ? ` (reason: ${hold.reason})` : ''}, ${expiresText(hold.expires_ms, nowMs)}`;

/** The JSON Schema of a hold and of a path's holds (MCP output schemas). */
export const HOLD_SCHEMA = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    kind: { type: 'string', enum: ['path', 'directory', 'pattern', 'resource'] },
    mode: { type: 'string', enum: ['exclusive', 'shared'] },
    slots: { type: ['integer', 'null'] },
    agent: AGENT_REF,
    expires_ms: { type: 'integer' },
    reason: NULLABLE_STRING,
  },
  required: ['path', 'kind', 'mode', 'slots', 'agent', 'expires_ms', 'reason'],
} as const;

export const PATH_HOLDS_SCHEMA = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    holders: { type: 'array', items: HOLD_SCHEMA },
    retry_after_ms: { type: ['integer', 'null'], description: 'Until the holds listed expire (they may be renewed): when to try again.' },
  },
  required: ['path', 'holders', 'retry_after_ms'],
} as const;
