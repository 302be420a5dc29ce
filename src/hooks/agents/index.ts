import { usageError } from '../../core/errors.js';
import { parseClaudeCode, type AgentHookEvent } from './claude-code.js';
import { parseCodex } from './codex.js';

/**
 * The AI coding agents whose hook payloads harn-agents reads: one adapter each, from the agent's own payload
 * to one `AgentHookEvent`. `agent-hook <agent>` acts on the event; `check --hook <agent>` (the hook installed
 * by earlier versions) only checks the file an editing tool is about to write.
 */
const ADAPTERS: Record<string, (payload: string) => AgentHookEvent> = {
  'claude-code': parseClaudeCode,
  codex: parseCodex,
};

export const AGENT_HOOKS = Object.keys(ADAPTERS);

export function parseAgentEvent(agent: string, payload: string): AgentHookEvent {
  const adapter = Object.hasOwn(ADAPTERS, agent) ? ADAPTERS[agent] : undefined;
  if (!adapter) throw usageError(`unknown agent '${agent}' (known: ${AGENT_HOOKS.join(', ')})`);
  return adapter(payload);
}

/** What `check --hook` asks: may these paths be written, from this directory? */
export interface AgentHookRequest {
  readonly paths: readonly string[];
  readonly cwd: string | null;
  readonly session: string | null;
}

export function parseAgentHook(agent: string, payload: string): AgentHookRequest {
  const event = parseAgentEvent(agent, payload);
  const paths = event.event === 'PreToolUse' && event.call?.kind === 'edit' ? event.call.files : [];
  return { paths, cwd: event.cwd, session: event.session };
}

export type { AgentHookEvent };
