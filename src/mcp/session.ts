import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CommandDefinition, McpFace, McpSession, McpSettings } from '../commands/command.js';
import { COMMANDS } from '../commands/index.js';
import type { AgentRef, Context } from '../commands/context.js';
import { LockCancelled, type LockResult } from '../commands/lock.js';
import { agentText } from '../commands/mcp-schema.js';
import type { ReleaseResult } from '../commands/release.js';
import { usageError } from '../core/errors.js';
import { keepAliveIntervalMs } from '../core/keepalive.js';
import { normaliseLockPaths } from '../core/paths.js';
import { pathList } from '../core/validate.js';
import { SessionLocks, type LostLock, type RequestId } from './session-locks.js';

/**
 * One MCP session's tool calls, apart from the transport: runs each tool's use case for the session agent,
 * keeps the locks the client was told it has (renewed by `renew`), gives back a lock whose request the client
 * cancelled, and tells the client, in its next result, about locks it lost anyway.
 */

/** A command with its types erased: the session only passes each one's values back to itself. */
export type Erased = CommandDefinition<unknown, unknown, string, unknown[], unknown>;
export const TOOL_COMMANDS: readonly Erased[] = (COMMANDS as readonly unknown[] as readonly Erased[]).filter((c) => c.mcp !== undefined);
export const faceOf = (c: Erased): McpFace<unknown, unknown> => c.mcp as McpFace<unknown, unknown>;

/** The line that tells the model its locks are gone, first in the next result. */
const lostLine = (lost: readonly LostLock[]): string =>
  `LOST LOCKS: you no longer hold ${lost.map((l) => `${l.path}${l.holders.length ? ` (now held by ${l.holders.map((h) => agentText(h.agent)).join(' and ')})` : ''}`).join(', ')}; ` +
  'they were broken, reaped or lapsed and are not taken again: lock them again before editing further.\n';

export class ToolSession {
  private readonly locks = new SessionLocks();
  private me: AgentRef | undefined;

  /**
   * `ctx`: paths are taken from its `workspace.cwd` (the server passes the workspace root). `log`: one line
   * on stderr. `granted`: told the TTL of each lock taken, so renewals can come sooner.
   */
  constructor(
    private readonly ctx: Context,
    private readonly settings: McpSettings,
    private readonly log: (line: string) => void,
    private readonly granted: (ttlMs: number) => void = () => undefined,
  ) {}

  /** The session agent, once registered. */
  get agent(): AgentRef | undefined {
    return this.me;
  }

  set agent(agent: AgentRef | undefined) {
    this.me = agent;
  }

  /** Run a tool for the session agent. Bad input and store errors are thrown; a refusal is a result. */
  async call(tool: string, args: Readonly<Record<string, unknown>>, signal: AbortSignal, request: RequestId): Promise<CallToolResult> {
    const command = TOOL_COMMANDS.find((c) => c.mcp?.tool === tool);
    if (!command) throw usageError(`unknown tool '${tool}'`);
    const me = this.me;
    if (!me) throw usageError('the session agent is not registered yet');
    const mcp = faceOf(command);
    const session: McpSession = { ...this.settings, id: me.id, name: me.name, signal };
    const input = mcp.input(args, session);
    const run = mcp.run ?? command.run;
    // A release untracks its paths first: a renewal running meanwhile must not report them lost.
    const releasing = tool === 'release' ? this.locks.forget(this.storedPaths(args.paths)) : [];
    let data: unknown;
    try {
      data = await run(this.ctx, input);
    } catch (error) {
      this.locks.restore(releasing);
      throw error;
    }
    if (tool === 'lock' && (data as LockResult).granted) {
      const ttlMs = (input as { ttlMs?: number }).ttlMs ?? this.settings.lockTtlMs;
      const paths = (data as LockResult).locks.map((p) => p.path);
      // Granted after the client gave up on it: the answer will never reach it, so the lock goes back now.
      if (signal.aborted) {
        await this.giveBack(paths.filter((p) => !this.locks.has(p)), `lock request ${String(request)} was cancelled`);
        throw new LockCancelled(paths);
      }
      this.locks.granted(paths, ttlMs, request);
      this.granted(ttlMs);
    }
    if (tool === 'release') this.locks.forget((data as ReleaseResult).released);
    const structured: Record<string, unknown> = { ...(mcp.structured ? mcp.structured(data) : (data as Record<string, unknown>)) };
    const lost = this.locks.takeLost();
    if (lost.length > 0) structured.lost_locks = lost;
    const line = (lost.length ? lostLine(lost) : '') + mcp.says(data, session);
    return { content: [{ type: 'text', text: `${line}\n${JSON.stringify(structured)}` }], structuredContent: structured };
  }

  /** A tool call's error as its result, telling the locks lost since the last result too. */
  errorResult(error: unknown): CallToolResult {
    const message = error instanceof Error ? error.message : String(error);
    const lost = this.locks.takeLost();
    return { isError: true, content: [{ type: 'text', text: `${lost.length ? lostLine(lost) : ''}harn-agents: ${message}` }] };
  }

  /** A cancellation that arrived after its request was answered: the client ignores that answer, so the locks it took go back. */
  async cancelled(request: RequestId): Promise<void> {
    await this.giveBack(this.locks.takenBy(request), `lock request ${String(request)} was cancelled after it was answered`);
  }

  /** How long until the next renewal: a third of the shortest TTL held (or of the agent timeout). */
  renewIntervalMs(ttlMs = Infinity): number {
    return keepAliveIntervalMs(Math.min(ttlMs, this.locks.shortestTtlMs() ?? Infinity, this.settings.agentTimeoutMs), this.settings.agentTimeoutMs);
  }

  /** Renew every lock held and heartbeat the agent, in one transaction; a failure is reported (false), never thrown. */
  async renew(): Promise<boolean> {
    const me = this.me;
    if (!me) return true;
    try {
      const lost = await this.locks.renew(this.ctx, me.id);
      for (const l of lost) this.log(`agent ${me.id} lost its lock on ${l.path} (${l.holders.length ? `now held by ${l.holders.map((h) => agentText(h.agent)).join(' and ')}` : 'broken, reaped or lapsed'}); it is not taken again`);
      return true;
    } catch (error) {
      const held = this.locks.shortestTtlMs() !== undefined;
      this.log(`could not renew the locks of agent ${me.id}${held ? ' (they lapse with their TTL unless a renewal succeeds)' : ''}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  /** Give back locks the client was told it did not get, in one transaction. */
  private async giveBack(paths: readonly string[], why: string): Promise<void> {
    const me = this.me;
    if (!me || paths.length === 0) return;
    await this.ctx.store
      .transact('update', ({ registry }) => {
        for (const path of paths) registry.releaseLock(me.id, path);
      }, { agents: [me.id], paths })
      .then(
        () => this.log(`${why}: released ${paths.join(', ')}, which the client was not told it had`),
        (error: unknown) => this.log(`${why}: could not release ${paths.join(', ')} (they lapse with their TTL): ${error instanceof Error ? error.message : String(error)}`),
      );
  }

  /** The stored form of a release's paths, to untrack them before it runs (bad input: none). */
  private storedPaths(paths: unknown): string[] {
    try {
      return normaliseLockPaths(pathList(paths, 'paths'), this.ctx.workspace.cwd, this.ctx.workspace.pathRoot);
    } catch {
      return [];
    }
  }
}
