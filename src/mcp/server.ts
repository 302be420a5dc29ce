import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { registryFor, type Registry } from '../api/index.js';
import type { Context } from '../commands/context.js';
import { isHarnError, usageError } from '../core/errors.js';
import { keepAliveIntervalMs } from '../core/keepalive.js';

/**
 * `harn-agents mcp`: a stdio Model Context Protocol server over the same use cases as the CLI (through the
 * library API). One agent is registered for the session and kept alive while the client is connected; when
 * the client goes away (stdin closes, SIGTERM, SIGINT) that agent's locks are released and it is
 * unregistered. Every tool call is one store transaction, so MCP agents, CLI scripts and git hooks share one
 * registry. Loaded only by `harn-agents mcp`.
 */

export interface McpOptions {
  /** The session agent's name; default: the client's name from the initialize request. */
  readonly name?: string;
  /** TTL of the locks the session takes (default: the registry's lock TTL). */
  readonly ttlMs?: number;
  readonly version: string;
}

const paths = { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Workspace paths, relative to the workspace root or absolute inside it; a trailing / means a whole directory.' };

export const TOOLS = [
  {
    name: 'lock',
    description: 'Lock files (or directories, with a trailing /) for this session so other agents do not edit them; all or none. A refusal is a normal result naming who holds what.',
    inputSchema: {
      type: 'object',
      properties: {
        paths,
        ttl: { type: 'string', description: 'How long the lock lasts, e.g. "30s", "5m" (default 30s). Lock again to renew.' },
        reason: { type: 'string', description: 'Why you lock, shown to others.' },
        wait: { type: 'string', description: 'If refused, keep trying this long, e.g. "20s".' },
      },
      required: ['paths'],
    },
  },
  { name: 'release', description: "Release this session's locks on paths.", inputSchema: { type: 'object', properties: { paths }, required: ['paths'] } },
  { name: 'holder', description: 'Who holds each path (or null when it is free).', inputSchema: { type: 'object', properties: { paths }, required: ['paths'] } },
  {
    name: 'check',
    description: 'Is any of these paths held by another agent? Lists each conflict; use before editing or committing.',
    inputSchema: { type: 'object', properties: { paths }, required: ['paths'] },
  },
  {
    name: 'status',
    description: 'All agents in the workspace with their state and live locks.',
    inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'Only locks on, under or covering this path.' } } },
  },
  { name: 'heartbeat', description: 'Tell the registry this session is alive (the server also does this on its own).', inputSchema: { type: 'object', properties: {} } },
  { name: 'whoami', description: "This session's agent id and name, and the workspace.", inputSchema: { type: 'object', properties: {} } },
] as const;

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) throw usageError(`${what} must be a non-empty array of strings`);
  return value;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw usageError(`${what} must be a string`);
  return value;
}

const result = (data: unknown): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(data) }],
  structuredContent: (Array.isArray(data) ? { result: data } : data) as Record<string, unknown>,
});

export async function serveMcp(ctx: Context, options: McpOptions): Promise<void> {
  const registry: Registry = registryFor(ctx);
  const server = new Server({ name: 'harn-agents', version: options.version }, { capabilities: { tools: {} } });
  let agent: { id: number; name: string } | undefined;
  let registering: Promise<{ id: number; name: string }> | undefined;

  const sessionAgent = (): Promise<{ id: number; name: string }> => {
    registering ??= (async () => {
      const name = options.name ?? server.getClientVersion()?.name ?? 'mcp-client';
      agent = await registry.register(`mcp: ${name}`);
      return agent;
    })();
    return registering;
  };

  const call = async (tool: string, args: Record<string, unknown>): Promise<unknown> => {
    const me = await sessionAgent();
    switch (tool) {
      case 'lock':
        return registry.lock(stringList(args.paths, 'paths'), {
          agent: me.id,
          ttl: optionalString(args.ttl, 'ttl') ?? options.ttlMs,
          wait: optionalString(args.wait, 'wait'),
          reason: optionalString(args.reason, 'reason'),
        });
      case 'release':
        return registry.release(stringList(args.paths, 'paths'), { agent: me.id });
      case 'holder':
        return registry.holder(stringList(args.paths, 'paths'));
      case 'check':
        return registry.check(stringList(args.paths, 'paths'), { agent: me.id });
      case 'status':
        return registry.status({ pathPrefix: optionalString(args.path, 'path') });
      case 'heartbeat':
        return registry.heartbeat(me.id);
      case 'whoami':
        return { id: me.id, name: me.name, workspace: registry.workspace.root };
      default:
        throw usageError(`unknown tool '${tool}'`);
    }
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS.map((t) => ({ ...t })) as never }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      return result(await call(request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>));
    } catch (error) {
      const message = isHarnError(error) || error instanceof Error ? error.message : String(error);
      return { isError: true, content: [{ type: 'text', text: `harn-agents: ${message}` }] };
    }
  });
  server.oninitialized = () => {
    void sessionAgent().catch(() => undefined);
  };

  // Keep the session agent alive between tool calls.
  const beat = setInterval(() => {
    if (agent) void registry.heartbeat(agent.id).catch(() => undefined);
  }, keepAliveIntervalMs(options.ttlMs ?? ctx.config.defaultLockTtlMs, ctx.config.agentTimeoutMs));

  const closed = new Promise<void>((resolve) => {
    const transport = new StdioServerTransport();
    let done = false;
    const finish = async () => {
      if (done) return;
      done = true;
      clearInterval(beat);
      // Release everything the session held: unregistering drops the agent and its locks in one transaction.
      const me = agent ?? (registering ? await registering.catch(() => undefined) : undefined);
      if (me) await registry.unregister(me.id).catch(() => undefined);
      // On a signal stdin may still be open: stop reading it, or the process would never exit.
      await server.close().catch(() => undefined);
      process.stdin.destroy();
      resolve();
    };
    transport.onclose = () => void finish();
    process.stdin.once('end', () => void finish());
    // \`on\`, not \`once\`: signal-exit (in proper-lockfile and write-file-atomic) re-raises a signal that no
    // other listener is left to handle, which would kill the process before the cleanup below has run.
    process.on('SIGTERM', () => void finish());
    process.on('SIGINT', () => void finish());
    void server.connect(transport);
  });
  await closed;
}
