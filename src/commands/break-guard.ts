import { usageError } from '../core/errors.js';
import type { AgentRegistry } from '../core/registry.js';
import type { HarnEvent } from '../core/events.js';
import type { ProcessIdentity } from '../core/process-tree.js';
import { byKey, optionalAgentId, optionalFlag, optionalReason, type InputNames } from '../core/validate.js';

/**
 * Who drops an agent's record (`unregister ID`, `register --id ID`), and whether on purpose. Dropping a
 * record drops its locks: done by anyone but the agent itself, that is breaking someone's locks, which
 * (as `release --force`) needs `force` and a reason, and is logged.
 */
export interface DropIntent {
  /**
   * The caller. Undefined: the agent itself (the library and the MCP server name their own agent). Null:
   * not said (the CLI without --agent or HARN_AGENT_ID), so recognised by its process tree, else nobody.
   */
  readonly by?: number | string | null;
  readonly force?: boolean;
  readonly reason?: string;
  /** The caller's process and its ancestors (CLI only), to recognise the agent's own process tree. */
  readonly ancestry?: readonly ProcessIdentity[];
}

/** A drop intent once checked. */
export interface CheckedDropIntent extends DropIntent {
  readonly by?: number | null;
}

/** The intent's inputs checked at the validation boundary (core/validate.ts), named as the calling face does. */
export function dropIntent(given: DropIntent, name: InputNames = byKey): CheckedDropIntent {
  const force = optionalFlag(given.force, name('force')) ?? false;
  const reason = typeof given.reason === 'string' && given.reason.trim() === '' ? undefined : optionalReason(given.reason, name('reason'));
  return { by: given.by === undefined ? undefined : optionalAgentId(given.by, name('by')), force, reason, ancestry: given.ancestry };
}

/**
 * Inside the transaction, before agent `id`'s record is dropped by `how`: nothing to do when it holds no
 * live lock or the caller is the agent; otherwise refused (exit 2) unless forced with a reason, and then
 * the locks it breaks are recorded as a `force-release` event.
 */
export function guardDrop(registry: AgentRegistry, nowMs: number, record: (event: HarnEvent) => void, id: number, how: 'unregister' | 'register --id', intent: CheckedDropIntent): void {
  const agent = registry.get(id);
  if (!agent) return;
  const live = [...agent.lockedPaths].filter(([, expires]) => expires > nowMs);
  if (live.length === 0 || intent.by === undefined || intent.by === id) return;
  const own = agent.meta?.process;
  if (intent.by === null && own && (intent.ancestry ?? []).some((p) => p.pid === own.pid && p.start === own.start)) return;
  const label = `agent ${id} (${agent.name})`;
  if (!intent.force || intent.reason === undefined) {
    const shown = live.slice(0, 3).map(([path]) => path).join(', ') + (live.length > 3 ? `, and ${live.length - 3} more` : '');
    throw usageError(
      `${label} holds ${live.length === 1 ? 'a lock' : `${live.length} locks`} (${shown}), which ${how} would break; ` +
        `if you are agent ${id}, run as it (HARN_AGENT_ID=${id}); to break them on purpose, add --force --reason TEXT (recorded in the event log)`,
    );
  }
  record({
    type: 'force-release',
    ts: nowMs,
    by: intent.by,
    reason: intent.reason,
    via: how,
    broken: live.map(([path, expires]) => ({ path, holder: { id, name: agent.name }, expires_ms: expires, lock_reason: agent.lockReasons.get(path) ?? null })),
  });
}
