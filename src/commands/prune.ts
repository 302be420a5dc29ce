import type { Duration } from '../core/durations.js';
import { DEFAULT_RETENTION_MS } from '../core/settings.js';
import { byKey, optionalDuration, optionsObject, type InputNames } from '../core/validate.js';
import { flagNames } from './argv.js';
import { agentLabel } from '../render/text.js';
import { defineCommand } from './command.js';
import { agentRef, type AgentRef, type Context } from './context.js';
import { AGENT_REF, agentText, NOW_MS } from './mcp-schema.js';

export interface PruneOptions {
  /** Only agents last seen longer ago than this (default: the workspace's `retention`, else 7 days). */
  readonly olderThanMs?: Duration;
  /** How the calling face names these options in a refusal (default: by key). */
  readonly names?: InputNames;
}

export interface PruneResult {
  /** The agents removed, by id. */
  readonly removed: readonly AgentRef[];
  readonly older_than_ms: number;
  /** The id the registry hands out next: unchanged by pruning, so ids are never reused. */
  readonly next_id: number;
  readonly now_ms: number;
}

/** The age `prune` uses when the workspace's `retention` is 0 (never) and no --older-than is given. */
export const DEFAULT_PRUNE_AGE_MS = DEFAULT_RETENTION_MS;

/** Remove crashed and gone agents that hold nothing and were last seen before the given age. */
export async function prune(ctx: Context, options: PruneOptions = {}): Promise<PruneResult> {
  const givenMs = optionalDuration(options.olderThanMs, (options.names ?? byKey)('olderThan'));
  // Usually there is nothing to prune: then nothing is locked or written.
  return ctx.store.transact('maybe-update', ({ registry, nowMs }) => {
    const olderThanMs = givenMs ?? (registry.retentionMs || DEFAULT_PRUNE_AGE_MS);
    const removed = registry.prune(nowMs, olderThanMs).map(agentRef).sort((a, b) => a.id - b.id);
    return { removed, older_than_ms: olderThanMs, next_id: registry.nextId, now_ms: nowMs };
  });
}

export const command = defineCommand({
  name: 'prune',
  run: prune,
  render: (r) => ({
    stdout: (r.removed.length ? r.removed.map((a) => `pruned ${agentLabel(a)}`) : ['nothing to prune']).map((l) => `${l}\n`).join(''),
    stderr: '',
  }),
  cli: {
    description: 'remove crashed and gone agents that hold nothing and were last seen before --older-than (ids are never reused)',
    options: [{ flags: '--older-than <duration>', help: "only agents last seen longer ago than this (default: the workspace's retention, 7d)" }],
    examples: ['harn-agents prune', 'harn-agents prune --older-than 1d --json'],
    input: ({ opts }) => ({ olderThanMs: opts.olderThan as string | undefined, names: flagNames() }),
  },
  library: {
    method: 'prune',
    input: (options?: { olderThan?: Duration }): PruneOptions => ({ olderThanMs: optionsObject(options, 'options').olderThan as Duration | undefined }),
  },
  mcp: {
    tool: 'prune',
    description:
      'Remove the records of crashed and gone agents that hold no lock and were last seen before olderThan (default: the workspace retention setting, 7d). Never touches a live agent or a lock.',
    properties: { olderThan: { type: 'string', description: 'Only agents last seen longer ago than this, e.g. "7d", "12h".' } },
    readOnly: false,
    destructive: true,
    input: (args) => ({ olderThanMs: args.olderThan as Duration | undefined }),
    outputSchema: {
      type: 'object',
      properties: { removed: { type: 'array', items: AGENT_REF }, older_than_ms: { type: 'integer' }, next_id: { type: 'integer' }, now_ms: NOW_MS },
      required: ['removed', 'older_than_ms', 'next_id', 'now_ms'],
    },
    says: (r) => (r.removed.length ? `pruned ${r.removed.map(agentText).join(', ')}` : 'nothing to prune'),
  },
});
