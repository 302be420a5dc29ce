import { usageError } from '../../core/errors.js';
import { parseClaudeCode, type AgentHookRequest } from './claude-code.js';

/** The agents whose hook payloads `check --hook <agent>` reads: one adapter each. */
const ADAPTERS: Record<string, (payload: string) => AgentHookRequest> = {
  'claude-code': parseClaudeCode,
};

export const AGENT_HOOKS = Object.keys(ADAPTERS);

export function parseAgentHook(agent: string, payload: string): AgentHookRequest {
  const adapter = Object.hasOwn(ADAPTERS, agent) ? ADAPTERS[agent] : undefined;
  if (!adapter) throw usageError(`unknown agent '${agent}' (known: ${AGENT_HOOKS.join(', ')})`);
  return adapter(payload);
}

export type { AgentHookRequest };
