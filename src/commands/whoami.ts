import { formatSpan } from '../core/durations.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import { defineCommand, type McpSettings } from './command.js';
import type { Context } from './context.js';
import { NOW_MS, pathsText } from './mcp-schema.js';
import { liveHolds } from '../core/registry.js';
import { holdJson, HOLD_SCHEMA, type Hold } from './hold.js';

export interface WhoamiOptions extends McpSettings {
  readonly id: number;
  readonly name: string;
}

export interface WhoamiResult {
  readonly id: number;
  readonly name: string;
  readonly workspace: string;
  /** The directory tool paths are taken from (the workspace root, whatever the server's directory). */
  readonly paths_relative_to: string;
  /** The default TTL of the session's locks (the server's --ttl): the bound only if the server dies. */
  readonly lock_ttl_ms: number;
  readonly agent_timeout_ms: number;
  /** The session agent's live locks. */
  readonly locks: readonly Hold[];
  readonly now_ms: number;
}

/** The MCP session's own agent, its live locks, and the settings it runs with (a CLI `whoami` is planned). */
export async function whoami(ctx: Context, options: WhoamiOptions): Promise<WhoamiResult> {
  return ctx.store.transact('query', ({ registry, nowMs }) => ({
    id: options.id,
    name: options.name,
    workspace: ctx.workspace.root,
    paths_relative_to: options.pathBase,
    lock_ttl_ms: options.lockTtlMs,
    agent_timeout_ms: options.agentTimeoutMs,
    locks: ((agent) => (agent ? liveHolds(agent, nowMs).map(holdJson) : []))(registry.get(options.id)),
    now_ms: nowMs,
  }), { agents: [options.id] });
}

export const command = defineCommand({
  name: 'whoami',
  run: whoami,
  render: (r) => ({ stdout: `agent ${r.id} (${esc(r.name)}) in ${esc(r.workspace)}\n`, stderr: '' }),
  mcp: {
    tool: 'whoami',
    description: "This session's agent id and name, its live locks, the workspace, the directory paths are relative to, and the server's lock TTL and agent timeout.",
    properties: {},
    readOnly: true,
    input: (_args, session) => ({ id: session.id, name: session.name, pathBase: session.pathBase, lockTtlMs: session.lockTtlMs, agentTimeoutMs: session.agentTimeoutMs }),
    outputSchema: {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: 'string' },
        workspace: { type: 'string' },
        paths_relative_to: { type: 'string' },
        lock_ttl_ms: { type: 'integer' },
        agent_timeout_ms: { type: 'integer' },
        locks: { type: 'array', items: HOLD_SCHEMA },
        now_ms: NOW_MS,
      },
      required: ['id', 'name', 'workspace', 'paths_relative_to', 'lock_ttl_ms', 'agent_timeout_ms', 'locks', 'now_ms'],
    },
    says: (r) =>
      `you are agent ${r.id} (${r.name}); paths are relative to ${r.paths_relative_to}; ` +
      (r.locks.length ? `you hold ${pathsText(r.locks.map((l) => l.path))} until you release them or this session ends` : 'you hold no locks') +
      ` (lock TTL if the server dies: ${formatSpan(r.lock_ttl_ms)})`,
  },
});
