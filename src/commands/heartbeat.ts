import type { AgentState } from '../core/registry.js';
import { agentId, byKey, type InputNames } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import { givenAgent } from './argv.js';
import { agentLabel } from '../render/text.js';
import { formatSpan } from '../core/durations.js';
import { agentText, NOW_MS } from './mcp-schema.js';

export interface HeartbeatOptions {
  /** The agent (the CLI's id as typed). */
  readonly agent: number | string;
  /** How the calling face names it in a refusal (default: by key). */
  readonly names?: InputNames;
}

export interface HeartbeatResult {
  readonly id: number;
  readonly name: string;
  readonly state: AgentState;
  readonly last_seen_ms: number;
}

/** Refresh an agent; an unknown id is registered as `agent-<id>`, a crashed agent comes back to active. */
export async function heartbeat(ctx: Context, options: HeartbeatOptions): Promise<HeartbeatResult> {
  const id = agentId(options.agent, (options.names ?? byKey)('agent'));
  return ctx.store.transact('update', ({ registry, nowMs }) => {
    const agent = registry.heartbeat(id, nowMs);
    return { id: agent.id, name: agent.name, state: agent.state, last_seen_ms: agent.lastSeenMs };
  }, { agents: [id], native: { op: 'heartbeat', agent: id } });
}

export const command = defineCommand({
  name: 'heartbeat',
  run: heartbeat,
  render: (r) => ({ stdout: `${agentLabel(r)} is ${r.state}\n`, stderr: '' }),
  cli: {
    description: 'mark an agent alive (an unknown id is registered as agent-<id>)',
    arguments: [{ name: '[id]', help: 'the agent (default: HARN_AGENT_ID)' }],
    examples: ['harn-agents heartbeat 3', 'HARN_AGENT_ID=3 harn-agents heartbeat'],
    input: ({ args, env }) => {
      // Checked once by the use case, named as given: the argument, or HARN_AGENT_ID.
      const { agent, name } = givenAgent(args[0], env, 'an agent id');
      return { agent, names: () => name };
    },
  },
  library: { method: 'heartbeat', input: (agent: number): HeartbeatOptions => ({ agent }) },
  mcp: {
    tool: 'heartbeat',
    description: (settings) =>
      `Tell the registry this session is alive. The server does this on its own while you are connected (agent timeout ${formatSpan(settings.agentTimeoutMs)}), so you never need to.`,
    properties: {},
    readOnly: false,
    input: (_args, session) => ({ agent: session.id }),
    // A heartbeat's time is the registry's time of the answer.
    structured: (r) => ({ ...r, now_ms: r.last_seen_ms }),
    outputSchema: {
      type: 'object',
      properties: { id: { type: 'integer' }, name: { type: 'string' }, state: { type: 'string', enum: ['active', 'crashed', 'gone'] }, last_seen_ms: { type: 'integer' }, now_ms: NOW_MS },
      required: ['id', 'name', 'state', 'last_seen_ms', 'now_ms'],
    },
    says: (r) => `${agentText(r)} is ${r.state}`,
  },
});
