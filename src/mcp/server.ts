import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CancelledNotificationSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpSettings, ObjectSchema } from '../commands/command.js';
import { LockCancelled } from '../commands/lock.js';
import { PATH_HOLDS_SCHEMA } from '../commands/hold.js';
import { escapeForTerminal } from '../render/escape.js';
import type { Context } from '../commands/context.js';
import { config } from '../commands/config.js';
import { register } from '../commands/register.js';
import { unregister } from '../commands/unregister.js';
import { settingValue, type WorkspaceSettings } from '../core/settings.js';
import { MAX_NAME_LENGTH } from '../core/validate.js';
import { clientProcess } from '../core/process-tree.js';
import { mcpInstructions } from './instructions.js';
import { faceOf, TOOL_COMMANDS, ToolSession } from './session.js';

/**
 * `harn-agents mcp`: a stdio Model Context Protocol server over the same use cases as the CLI. One agent is
 * registered for the session; while the client is connected the server heartbeats it and renews the
 * session's locks (every third of the shortest TTL), so a lock lasts until the client releases it or the
 * session ends; the TTL only frees it if the server dies. When the client goes away (stdin closes,
 * SIGTERM, SIGINT, SIGHUP) the session's locks are released and its agent unregistered. Every tool call is
 * one store transaction, so MCP agents, CLI scripts and git hooks share one registry. Paths are taken from
 * the workspace root, whatever the server's directory. The tool calls themselves are in session.ts. Loaded
 * only by `harn-agents mcp`.
 */

export interface McpOptions {
  /** The session agent's name; default: the client's name from the initialize request. */
  readonly name?: string;
  /** TTL of the locks the session takes (default: --lock-ttl, else the workspace's lock-ttl). */
  readonly ttlMs?: number;
  readonly version: string;
}

/** What the server adds to every tool's result: the locks the session lost since the last result. */
const SESSION_MEMBERS = {
  lost_locks: {
    type: 'array',
    description: 'Locks this session lost since the last result (broken, reaped or lapsed): you no longer hold these paths.',
    items: PATH_HOLDS_SCHEMA,
  },
} as const;

const outputSchema = (schema: ObjectSchema): ObjectSchema => ({ ...schema, properties: { ...schema.properties, ...SESSION_MEMBERS } });

/** The tool list, from the commands' MCP declarations (src/commands/<name>.ts, `mcp`), stating `settings`. */
export function mcpTools(settings: McpSettings) {
  return TOOL_COMMANDS.map((c) => {
    const mcp = faceOf(c);
    const properties = typeof mcp.properties === 'function' ? mcp.properties(settings) : mcp.properties;
    return {
      name: mcp.tool,
      description: typeof mcp.description === 'function' ? mcp.description(settings) : mcp.description,
      inputSchema: { type: 'object' as const, properties, ...(mcp.required ? { required: [...mcp.required] } : {}) },
      outputSchema: outputSchema(mcp.outputSchema),
      annotations: { readOnlyHint: mcp.readOnly, destructiveHint: mcp.destructive ?? false },
    };
  });
}

/**
 * The session's lock TTL and agent timeout: the server's own (`mcp --ttl`, `--lock-ttl`, `--agent-timeout`),
 * else the workspace's settings as they are when the session starts (else their defaults, when the state
 * cannot be read now: the tool calls then report why).
 */
async function sessionLifetimes(ctx: Context, options: McpOptions, report: (what: string) => (error: unknown) => void) {
  const lockTtlMs = options.ttlMs ?? ctx.config.defaultLockTtlMs;
  const agentTimeoutMs = ctx.config.agentTimeoutMs;
  let workspace: WorkspaceSettings = {};
  if (lockTtlMs === undefined || agentTimeoutMs === undefined) {
    try {
      workspace = Object.fromEntries((await config(ctx, { action: 'show' })).settings.map((s) => [s.key, s.value_ms]));
    } catch (error) {
      report("could not read the workspace's settings (using the defaults)")(error);
    }
  }
  return {
    lockTtlMs: lockTtlMs ?? settingValue(workspace, 'lock-ttl'),
    agentTimeoutMs: agentTimeoutMs ?? settingValue(workspace, 'agent-timeout'),
  };
}

export async function serveMcp(base: Context, options: McpOptions): Promise<void> {
  // Tool paths are taken from the workspace root, as the descriptions say, whatever the server's directory
  // (in a linked git worktree sharing its repository's registry: that worktree's top, what paths are stored from).
  const ctx: Context = { ...base, workspace: { ...base.workspace, cwd: base.workspace.pathRoot } };

  // The server has no stdout of its own (it is the protocol): problems go to stderr, once until they change.
  let reported = '';
  const log = (line: string): void => {
    const message = `harn-agents: mcp: ${escapeForTerminal(line)}`;
    if (message !== reported) process.stderr.write(`${message}\n`);
    reported = message;
  };
  const report = (what: string) => (error: unknown) => log(`${what}: ${error instanceof Error ? error.message : String(error)}`);

  const settings: McpSettings = { ...(await sessionLifetimes(ctx, options, report)), pathBase: ctx.workspace.pathRoot };
  const tools = mcpTools(settings);
  const server = new Server({ name: 'harn-agents', version: options.version }, { capabilities: { tools: {} }, instructions: mcpInstructions(settings) });
  // After a renewal went through, the next failure is logged even if it reads as the last one did.
  const session = new ToolSession(ctx, settings, log, { renewed: () => (reported = '') });

  let registering: Promise<{ id: number; name: string }> | undefined;
  const sessionAgent = (): Promise<{ id: number; name: string }> => {
    registering ??= (async () => {
      const name = options.name ?? server.getClientVersion()?.name ?? 'mcp-client';
      // The agent's own timeout is the one the renewal below is paced by, whatever the workspace's setting
      // becomes later. The client (the nearest ancestor that is not a launcher: `npx`, `npm exec`, `sh -c`,
      // and only if it really started us) is recorded with it: that client's hooks and git commits then know
      // the session's locks as its own. No client can be named (an orphaned server, adopted by pid 1 or a
      // subreaper): none is recorded, and the line below says so.
      const client = clientProcess();
      if (!client) log('the client process is not known (its parent has exited, or /proc cannot tell): its hooks and commits know this session only through HARN_AGENT_ID');
      const registered = await register(ctx, { name: `mcp: ${name}`.slice(0, MAX_NAME_LENGTH), timeoutMs: settings.agentTimeoutMs, ...(client ? { clientPid: client.pid } : {}) });
      session.agent = registered;
      return registered;
    })();
    return registering;
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.map((t) => ({ ...t })) as never }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    try {
      await sessionAgent();
      // Arguments go to the use case as they arrived: it validates them (core/validate.ts), so a tool call
      // with wrong types gets the same one-line error as the CLI and the library.
      return await session.call(request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>, extra.signal, extra.requestId);
    } catch (error) {
      if (error instanceof LockCancelled) log(`request ${String(extra.requestId)} cancelled by the client: ${error.message}`);
      return session.errorResult(error);
    }
  });
  server.oninitialized = () => {
    // Registering early names the session at once; if it fails, the first tool call tries again and gets
    // the error as its answer.
    void sessionAgent().catch((error: unknown) => {
      registering = undefined;
      report('could not register the session agent')(error);
    });
  };

  const closed = new Promise<void>((resolve) => {
    const transport = new StdioServerTransport();
    let done = false;
    const finish = async () => {
      if (done) return;
      done = true;
      await session.stop();
      // Release everything the session held: unregistering drops the agent and its locks in one transaction.
      // A registration that failed was reported when it did: there is then no agent to remove.
      const me = session.agent ?? (registering ? await registering.catch(() => undefined) : undefined);
      if (me) await unregister(ctx, { agent: me.id }).catch(report(`could not unregister the session agent ${me.id} (its locks lapse with their TTL)`));
      await ctx.store.close().catch(report('could not close the store'));
      // On a signal stdin may still be open: stop reading it, or the process would never exit. The transport
      // may already be closed (the client went away): closing it again has nothing to report.
      await server.close().catch(() => undefined);
      process.stdin.destroy();
      resolve();
    };
    transport.onclose = () => void finish();
    process.stdin.once('end', () => void finish());
    // A closed terminal (SIGHUP) may have taken stderr with it: a failed log line must not end the cleanup.
    process.stderr.on('error', () => undefined);
    // `on`, not `once`: the handlers stay for the whole session, so a second signal during the cleanup
    // does not fall back to the default action and kill the process before its locks are released.
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void finish());
    void server.connect(transport).then(() => {
      // A cancellation that arrives after its request was answered (the answer crossed it): the client
      // ignores that answer, so the locks it granted go back. The SDK's own handling (aborting a request
      // still running) is kept: this only looks at the message first.
      const deliver = transport.onmessage;
      transport.onmessage = (message: JSONRPCMessage) => {
        const cancelled = CancelledNotificationSchema.safeParse(message);
        if (cancelled.success && cancelled.data.params.requestId !== undefined) void session.cancelled(cancelled.data.params.requestId);
        deliver?.(message);
      };
    }, (error: unknown) => {
      report('could not start')(error);
      void finish();
    });
  });
  await closed;
}
