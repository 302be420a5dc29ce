import { formatSpan } from '../core/durations.js';
import type { AgentRef } from './context.js';
import type { McpSettings } from './command.js';
import { agentLabel, expiresIn, forModel } from '../render/text.js';

/** The `paths` argument as every MCP tool that takes paths describes it, naming the directory they are taken from. */
export const mcpPaths = (settings: McpSettings) =>
  ({
    type: 'array',
    items: { type: 'string' },
    minItems: 1,
    description: `Workspace paths, relative to the workspace root ${settings.pathBase} (not the server's directory) or absolute inside it; a trailing / means a whole directory.`,
  }) as const;

/** Pieces of the tools' output schemas (JSON Schema, as the SDK's client validates `structuredContent`). */
export const NOW_MS = { type: 'integer', description: "The registry's time of the answer (Unix ms): every expires_ms is on this clock." } as const;
export const AGENT_REF = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } }, required: ['id', 'name'] } as const;
export const NULLABLE_STRING = { type: ['string', 'null'] } as const;

/** How an agent is named to the model: the people's label, unescaped (render/text.ts). */
export const agentText = (agent: AgentRef): string => agentLabel(agent, forModel);

/** "expires in 29s", counted on the answer's own clock (its now_ms): the same words as for people. */
export const expiresText = expiresIn;

/** A list of paths for a sentence: "a.ts", "a.ts and b.ts", "a.ts, b.ts and c.ts". */
export function pathsText(paths: readonly string[]): string {
  if (paths.length <= 1) return paths.join('');
  return `${paths.slice(0, -1).join(', ')} and ${paths[paths.length - 1]}`;
}

/** The lock discipline in one clause, for descriptions that mention how long a lock lasts. */
export const lockLifetime = (settings: McpSettings): string =>
  `A lock is held until you release it or this session ends: the server renews it while you are connected. Its TTL (default ${formatSpan(settings.lockTtlMs)}, this server's --ttl) only bounds it if the server dies.`;
