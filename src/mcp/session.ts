import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { erased, type ErasedCommand, type McpFace, type McpSession, type McpSettings } from '../commands/command.js';
import { COMMANDS } from '../commands/index.js';
import type { AgentRef, Context } from '../commands/context.js';
import { LockCancelled, type LockResult } from '../commands/lock.js';
import { agentText } from '../commands/mcp-schema.js';
import type { ReleaseResult } from '../commands/release.js';
import { usageError } from '../core/errors.js';
import { normaliseLockPaths } from '../core/paths.js';
import { pathList } from '../core/validate.js';
import { Lease, type LeaseTimers, type LostLock } from '../commands/lease.js';

/** A request's id, as the protocol numbers them. */
export type RequestId = string | number;

/**
 * One MCP session's tool calls, apart from the transport: runs each tool's use case for the session agent,
 * keeps the locks the client was told it has (the lease, commands/lease.ts, renews them and heartbeats the
 * agent), gives back a lock whose request the client cancelled, and tells the client, in its next result,
 * about locks it lost anyway. Only locks the client was told it has are held; a lock lost anyway (broken
 * with `release --force`, reaped, or lapsed while the server was stopped) is reported once and never taken
 * again: someone may have used the path meanwhile.
 */

/** A command with its types erased: the session only passes each one's values back to itself. */
export type Erased = ErasedCommand;
export const TOOL_COMMANDS: readonly Erased[] = erased(COMMANDS).filter((c) => c.mcp !== undefined);
export const faceOf = (c: Erased): McpFace<unknown, unknown> => c.mcp as McpFace<unknown, unknown>;

/** The line that tells the model its locks are gone, first in the next result. */
const lostLine = (lost: readonly LostLock[]): string =>
  `LOST LOCKS: you no longer hold ${lost.map((l) => `${l.path}${l.holders.length ? ` (now held by ${l.holders.map((h) => agentText(h.agent)).join(' and ')})` : ''}`).join(', ')}; ` +
  'they were broken, reaped or lapsed and are not taken again: lock them again before editing further.\n';

export class ToolSession {
  private lease: Lease | undefined;
  private me: AgentRef | undefined;
  /** Locks lost since the last result: each is told to the client once, in its next result. */
  private lost: LostLock[] = [];

  /**
   * `ctx`: paths are taken from its `workspace.cwd` (the server passes the workspace root). `log`: one line
   * on stderr. `renewed`: told when a renewal went through. `timers`: the lease's clock and timers.
   */
  constructor(
    private readonly ctx: Context,
    private readonly settings: McpSettings,
    private readonly log: (line: string) => void,
    private readonly hooks: { readonly renewed?: () => void; readonly timers?: LeaseTimers } = {},
  ) {}

  /** The session agent, once registered. */
  get agent(): AgentRef | undefined {
    return this.me;
  }

  /** Set once the agent is registered: its lease starts renewing then (and heartbeats it, locks held or not). */
  set agent(agent: AgentRef | undefined) {
    this.me = agent;
    if (!agent || this.lease) return;
    this.lease = new Lease(this.ctx, {
      agent: agent.id,
      agentTimeoutMs: this.settings.agentTimeoutMs,
      heartbeat: true,
      timers: this.hooks.timers,
      events: {
        lost: (locks) => {
          for (const l of locks) this.log(`agent ${agent.id} lost its lock on ${l.path} (${l.holders.length ? `now held by ${l.holders.map((h) => agentText(h.agent)).join(' and ')}` : 'broken, reaped or lapsed'}); it is not taken again`);
          this.lost.push(...locks);
        },
        failed: (error) => {
          const held = this.lease?.shortestTtlMs() !== undefined;
          this.log(`could not renew the locks of agent ${agent.id}${held ? ' (they lapse with their TTL unless a renewal succeeds)' : ''}: ${error instanceof Error ? error.message : String(error)}`);
        },
        renewed: this.hooks.renewed,
      },
    });
    this.lease.start();
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
    const releasing = tool === 'release' ? (this.lease?.release(this.storedPaths(args.paths)) ?? []) : [];
    let data: unknown;
    try {
      data = await run(this.ctx, input);
    } catch (error) {
      this.lease?.restore(releasing);
      throw error;
    }
    if (tool === 'lock' && (data as LockResult).granted) {
      // The TTL the locks were granted with (the call's, checked by the use case, else the session's).
      const granted = data as LockResult;
      const ttlMs = Math.max(1, (granted.locks[0]?.expires_ms ?? granted.now_ms) - granted.now_ms);
      const paths = granted.locks.map((p) => p.path);
      // Granted after the client gave up on it: the answer will never reach it, so the lock goes back now.
      if (signal.aborted) {
        await this.giveBack(paths.filter((p) => !this.lease?.has(p)), `lock request ${String(request)} was cancelled`);
        throw new LockCancelled(paths);
      }
      this.lease?.hold(paths, ttlMs, request);
    }
    if (tool === 'release') this.lease?.release((data as ReleaseResult).released);
    const structured: Record<string, unknown> = { ...(mcp.structured ? mcp.structured(data) : (data as Record<string, unknown>)) };
    const lost = this.takeLost();
    if (lost.length > 0) structured.lost_locks = lost.map(({ path, holders, retry_after_ms }) => ({ path, holders, retry_after_ms }));
    const line = (lost.length ? lostLine(lost) : '') + mcp.says(data, session);
    return { content: [{ type: 'text', text: `${line}\n${JSON.stringify(structured)}` }], structuredContent: structured };
  }

  /** A tool call's error as its result, telling the locks lost since the last result too. */
  errorResult(error: unknown): CallToolResult {
    const message = error instanceof Error ? error.message : String(error);
    const lost = this.takeLost();
    return { isError: true, content: [{ type: 'text', text: `${lost.length ? lostLine(lost) : ''}harn-agents: ${message}` }] };
  }

  /** A cancellation that arrived after its request was answered: the client ignores that answer, so the locks it took go back. */
  async cancelled(request: RequestId): Promise<void> {
    await this.giveBack(this.lease?.releaseTagged(request) ?? [], `lock request ${String(request)} was cancelled after it was answered`);
  }

  /** Renew every lock held and heartbeat the agent now, in one transaction; a failure is reported (false), never thrown. */
  async renew(): Promise<boolean> {
    return this.lease ? this.lease.renew() : true;
  }

  /** No more renewals (the session is ending); waits for one under way. */
  async stop(): Promise<void> {
    await this.lease?.stop();
  }

  private takeLost(): LostLock[] {
    const lost = this.lost;
    this.lost = [];
    return lost;
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
